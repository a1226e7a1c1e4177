//! Password hashes: argon2id (PHC strings) for new hashes, bcrypt from the original ipocket
//! checked too. Argon2's working memory (19 MiB per hash with the default parameters) can be
//! reused through a [`PasswordMemory`], so a server that checks passwords on a few threads of
//! its own holds that memory once per thread instead of allocating it per login.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{Error, Result};

/// The largest argon2 memory a stored hash may ask for (256 MiB): a hash asking for more
/// never matches, rather than letting one row make every login allocate gigabytes.
const MAX_BLOCKS: usize = 256 * 1024;

/// Argon2 working memory, kept between password checks (one per worker thread).
///
/// ```
/// use ipocket_core::{hash_password_with, verify_password_with, PasswordMemory};
/// let mut mem = PasswordMemory::default();
/// let h = hash_password_with("s3cret", &mut mem).unwrap();
/// assert!(verify_password_with("s3cret", &h, &mut mem));
/// assert!(!verify_password_with("wrong", &h, &mut mem));
/// ```
#[derive(Default)]
pub struct PasswordMemory {
    blocks: Vec<Block>,
}

impl PasswordMemory {
    /// `n` blocks, grown (once) when a hash needs more than the buffer holds.
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        if self.blocks.len() < n {
            self.blocks.resize(n, Block::default());
        }
        &mut self.blocks[..n]
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }
}

/// Hashes a password as a PHC string (`$argon2id$…`).
pub fn hash_password(password: &str) -> Result<String> {
    hash_password_with(password, &mut PasswordMemory::default())
}

/// [`hash_password`] in reused working memory.
pub fn hash_password_with(password: &str, mem: &mut PasswordMemory) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| Error::Password(e.to_string()))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_raw,
            &mut out,
            mem.blocks(params.block_count()),
        )
        .map_err(|e| Error::Password(e.to_string()))?;
    let hash = Output::new(&out).map_err(|e| Error::Password(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| Error::Password(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Checks a password against a stored hash: argon2 (PHC string) or, for
/// databases of the original ipocket, bcrypt (`$2a$`/`$2b$`/`$2y$`). A
/// malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    verify_password_with(password, hash, &mut PasswordMemory::default())
}

/// [`verify_password`] in reused working memory.
pub fn verify_password_with(password: &str, hash: &str, mem: &mut PasswordMemory) -> bool {
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    let Ok(phc) = PasswordHash::new(hash) else {
        return false;
    };
    argon2_matches(password, &phc, mem).unwrap_or(false)
}

fn argon2_matches(
    password: &str,
    phc: &PasswordHash<'_>,
    mem: &mut PasswordMemory,
) -> Option<bool> {
    let algorithm = Algorithm::try_from(phc.algorithm).ok()?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(phc).ok()?;
    let expected = phc.hash?;
    let mut salt_bytes = [0u8; 64];
    let salt = phc.salt?.decode_b64(&mut salt_bytes).ok()?;
    if params.block_count() > MAX_BLOCKS {
        return None;
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            mem.blocks(params.block_count()),
        )
        .ok()?;
    // `Output`'s equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
}

/// A hash of a random password, computed once: unknown and inactive users are checked
/// against it so that a failed login takes as long whether or not the user exists.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::password_hash::rand_core::RngCore;
        let mut b = [0u8; 16];
        OsRng.fill_bytes(&mut b);
        let random: String = b.iter().map(|x| format!("{x:02x}")).collect();
        hash_password(&random).expect("hashing a random password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn passwords_are_argon2_and_verify() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("s3cret", "not a hash"));
    }

    #[test]
    fn reused_memory_agrees_with_the_argon2_crate_both_ways() {
        let mut mem = PasswordMemory::default();
        // A hash of the crate's own API verifies here, and ours verifies there.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"pw-1", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password_with("pw-1", &theirs, &mut mem));
        assert!(!verify_password_with("pw-2", &theirs, &mut mem));
        let ours = hash_password_with("pw-1", &mut mem).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"pw-1", &parsed).is_ok());
        // Other parameters (more memory, argon2i) work through the same buffer.
        let bigger = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(32 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw-3", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password_with("pw-3", &bigger, &mut mem));
        assert_eq!(mem.bytes(), 32 * 1024 * 1024);
    }

    #[test]
    fn a_hash_asking_for_too_much_memory_never_matches() {
        let h = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let mut mem = PasswordMemory::default();
        assert!(!verify_password_with("x", h, &mut mem));
        assert_eq!(mem.bytes(), 0);
    }

    #[test]
    fn the_dummy_hash_is_argon2_and_matches_nothing_guessable() {
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("", dummy_hash()));
        assert_eq!(dummy_hash(), dummy_hash());
    }
}
