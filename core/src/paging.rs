//! Pages of a listing: the window asked for and the rows with the total. Shared by the asset
//! queries and the audit log.

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

    /// Page `number` (1-based) of `per_page` rows.
    pub fn number(number: u64, per_page: u64) -> Self {
        Page {
            offset: number.saturating_sub(1) * per_page,
            limit: per_page,
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
