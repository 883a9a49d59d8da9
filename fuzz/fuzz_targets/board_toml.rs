//! A board description file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ompqc::board::Board;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(board) = Board::parse(text, "fuzz.toml") {
            let _ = (board.uart_divisor(), board.vector_table());
        }
    }
});
