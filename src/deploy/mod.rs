//! Deployment onto real boards (README: firmware, flash, validate): a standalone firmware project per board and
//! mode (`project`), programming it with the board's tools (`flash`), and validating it over the console UART
//! against the reference interpreter (`validate`, over `protocol` and a `link`).

pub mod flash;
pub mod link;
pub mod project;
pub mod protocol;
pub mod validate;
