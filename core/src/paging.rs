//! Pages of a listing: the window asked for and the rows with the total. Shared by the asset
//! queries and the audit log.

use crate::error::{Error, Result};

/// A window of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return at most.
    pub limit: u64,
}

impl Default for Page {
    /// The first 100 rows.
    fn default() -> Self {
        Page {
            offset: 0,
            limit: 100,
        }
    }
}

impl Page {
    /// Every row.
    pub fn all() -> Self {
        Page {
            offset: 0,
            limit: i64::MAX as u64,
        }
    }

    pub(crate) fn limit_i64(self) -> i64 {
        self.limit.min(i64::MAX as u64) as i64
    }

    pub(crate) fn offset_i64(self) -> i64 {
        self.offset.min(i64::MAX as u64) as i64
    }

    /// Page `number` (1-based) of `per_page` rows; an offset past what SQLite can skip
    /// saturates (an empty page, never the first one again).
    pub fn number(number: u64, per_page: u64) -> Self {
        Page {
            offset: number.saturating_sub(1).saturating_mul(per_page),
            limit: per_page,
        }
    }

    /// [`Page::number`] for paging parameters a client sent: `page` from 1, `per_page` from 1
    /// to `max_per_page`, and an offset SQLite can skip. Errors name the parameter.
    ///
    /// ```
    /// use ipocket_core::Page;
    /// assert_eq!(Page::checked(3, 50, 1000).unwrap(), Page { offset: 100, limit: 50 });
    /// let e = Page::checked(9223372036854775809, 50, 1000).unwrap_err();
    /// assert!(e.to_string().starts_with("page: page 9223372036854775809 of 50 rows is past"), "{e}");
    /// assert_eq!(Page::checked(1, 1001, 1000).unwrap_err().to_string(),
    ///     "per_page: per_page must be from 1 to 1000, found 1001");
    /// ```
    pub fn checked(number: u64, per_page: u64, max_per_page: u64) -> Result<Self> {
        if number == 0 {
            return Err(Error::invalid("page", "page must be 1 or more, found 0"));
        }
        if per_page == 0 || per_page > max_per_page {
            return Err(Error::invalid(
                "per_page",
                format!("per_page must be from 1 to {max_per_page}, found {per_page}"),
            ));
        }
        match (number - 1).checked_mul(per_page) {
            Some(offset) if offset <= i64::MAX as u64 => Ok(Page {
                offset,
                limit: per_page,
            }),
            _ => Err(Error::invalid(
                "page",
                format!(
                    "page {number} of {per_page} rows is past the largest offset ({})",
                    i64::MAX
                ),
            )),
        }
    }
}

/// One page of results and the total count across all pages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PageResult<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in total.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_parameters_are_checked_not_wrapped() {
        // 2^63 + 1 used to wrap the offset to 0: the first page again
        let huge = (1u64 << 63) + 1;
        assert_ne!(Page::number(huge, 50).offset, 0);
        for (page, per_page, field) in [
            (0, 50, "page"),
            (huge, 50, "page"),
            (u64::MAX, 1, "page"),
            (1, 0, "per_page"),
            (1, 1001, "per_page"),
        ] {
            match Page::checked(page, per_page, 1000) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{page} {per_page}"),
                other => panic!("{page} {per_page}: {other:?}"),
            }
        }
        let last = i64::MAX as u64 / 1000 + 1;
        assert_eq!(
            Page::checked(last, 1000, 1000).unwrap().offset,
            (last - 1) * 1000
        );
        assert_eq!(
            Page::checked(1, 1000, 1000).unwrap(),
            Page {
                offset: 0,
                limit: 1000
            }
        );
    }
}
