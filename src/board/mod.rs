//! Boards (README: firmware): real chips with their memory maps, console UART, cycle counter and programming tools,
//! for `firmware`, `flash` and `validate`. Each names the target (targets/) whose code its core runs. The files
//! under boards/ are compiled in; `--board path/to/file.toml` loads any other.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::target::Target;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    pub name: String,
    pub description: String,
    /// The target whose generated code the core runs (a bundled target name).
    pub core: String,
    /// Whether ompqc's firmware has run on the real board; QEMU's model of a chip does not count.
    pub tested_on_hardware: bool,
    /// The core clock the firmware runs at: the chip's clock out of reset (the firmware does not change it).
    pub clock_hz: u64,
    pub memory: Memory,
    pub uart: Uart,
    pub counter: Counter,
    /// A second-stage bootloader the chip's boot ROM needs at the start of flash, before the vector table.
    #[serde(default)]
    pub boot2: Option<Boot2>,
    /// How QEMU models the chip, when it does.
    #[serde(default)]
    pub qemu: Option<Qemu>,
    pub programmer: Programmer,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Where the image goes: the vector table (or the entry point) lands at its base.
    pub flash: Region,
    /// The RAM the data, the arena and the stack use.
    pub ram: Region,
    /// Tightly coupled or core-coupled memories, linked as named sections for hand placement.
    #[serde(default)]
    pub extra: Vec<NamedRegion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub base: u64,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedRegion {
    pub name: String,
    pub base: u64,
    pub size: u64,
}

/// The console UART, at register level: which driver, where, how fast, and the steps that clock it and route its
/// pins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uart {
    pub kind: UartKind,
    pub base: u64,
    /// The UART's input clock, from which the baud divisor is computed.
    pub clock_hz: u64,
    pub baud: u32,
    /// Pin numbers, for UARTs that select their pins in their own registers (nRF).
    #[serde(default)]
    pub tx_pin: Option<u32>,
    #[serde(default)]
    pub rx_pin: Option<u32>,
    /// Register steps run in order before the UART is set up: clocks, pin multiplexing.
    #[serde(default)]
    pub setup: Vec<Step>,
}

/// One register step: `reg = (reg & !clear) | set`, or with `wait`, wait until those bits of `reg` are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub reg: u64,
    #[serde(default)]
    pub clear: u64,
    #[serde(default)]
    pub set: u64,
    #[serde(default)]
    pub wait: u64,
}

/// Second-stage bootloaders ompqc writes (templates/firmware/boot2-KIND.S).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boot2 {
    /// The RP2040's: 256 bytes whose last 4 are a CRC-32 of the first 252, checked by the boot ROM.
    Rp2040,
}

impl Boot2 {
    /// The bytes it takes at the start of flash.
    pub fn size(self) -> u64 {
        256
    }
}

/// The UART families the firmware has drivers for (templates/firmware/uart/KIND.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UartKind {
    /// STM32F1/F2/F4 USART: SR, DR, BRR, CR1.
    Stm32Usart,
    /// STM32F7/L4/G4 USART: CR1, BRR, ISR, RDR, TDR.
    Stm32UsartV2,
    /// nRF51/nRF52 UART without DMA.
    NrfUart,
    /// nRF52/nRF53 UARTE (EasyDMA).
    NrfUarte,
    /// SiFive UART (FE310).
    SifiveUart,
    /// Arm PrimeCell PL011 (RP2040).
    Pl011,
}

impl UartKind {
    pub fn name(self) -> &'static str {
        match self {
            UartKind::Stm32Usart => "stm32-usart",
            UartKind::Stm32UsartV2 => "stm32-usart-v2",
            UartKind::NrfUart => "nrf-uart",
            UartKind::NrfUarte => "nrf-uarte",
            UartKind::SifiveUart => "sifive-uart",
            UartKind::Pl011 => "pl011",
        }
    }

    /// Whether the UART selects its pins in its own registers (`tx_pin`, `rx_pin`).
    fn selects_pins(self) -> bool {
        matches!(self, UartKind::NrfUart | UartKind::NrfUarte)
    }

    /// The value of the baud-rate register for `baud` from a `clock_hz` input clock.
    pub fn divisor(self, clock_hz: u64, baud: u32) -> std::result::Result<u64, String> {
        let baud64 = baud as u64;
        if baud == 0 || clock_hz < 16 * baud64 || clock_hz > MAX_CLOCK_HZ {
            return Err(format!("{baud} baud is out of reach of a {clock_hz} Hz UART clock"));
        }
        match self {
            // USARTDIV in sixteenths, oversampling by 16: BRR = clock / baud, rounded.
            UartKind::Stm32Usart | UartKind::Stm32UsartV2 => Ok((clock_hz + baud64 / 2) / baud64),
            // div = clock / baud - 1.
            UartKind::SifiveUart => Ok((clock_hz + baud64 / 2) / baud64 - 1),
            // clock / (16 baud) in 64ths, rounded: the integer part above the 6-bit fraction.
            UartKind::Pl011 => Ok((4 * clock_hz + baud64 / 2) / baud64),
            // Nordic's BAUDRATE values are a table (the product specifications' register descriptions).
            UartKind::NrfUart | UartKind::NrfUarte => {
                let uarte = self == UartKind::NrfUarte;
                let value = match baud {
                    9600 => 0x0027_5000,
                    19200 => 0x004E_A000,
                    38400 if uarte => 0x009D_0000,
                    38400 => 0x009D_5000,
                    57600 if uarte => 0x00EB_0000,
                    57600 => 0x00EB_F000,
                    115200 if uarte => 0x01D6_0000,
                    115200 => 0x01D7_E000,
                    230400 if uarte => 0x03B0_0000,
                    230400 => 0x03AF_B000,
                    1_000_000 => 0x1000_0000,
                    _ => {
                        return Err(format!(
                            "{baud} baud: a Nordic UART runs 9600, 19200, 38400, 57600, 115200, 230400 or 1000000"
                        ))
                    }
                };
                Ok(value)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counter {
    pub kind: CounterKind,
    /// The peripheral's address (nrf-timer).
    #[serde(default)]
    pub base: Option<u64>,
}

/// Cycle counters (templates/firmware/counter.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterKind {
    /// DWT CYCCNT (Cortex-M3 and up).
    Dwt,
    /// The RISC-V mcycle CSR.
    Mcycle,
    /// SysTick at the core clock, its 24 bits extended by counting wraps.
    Systick,
    /// An nRF TIMER at 16 MHz (the nRF51's Cortex-M0 has neither DWT nor SysTick).
    NrfTimer,
}

impl CounterKind {
    /// The firmware's macro suffix (BOARD_COUNTER_*).
    pub fn macro_name(self) -> &'static str {
        match self {
            CounterKind::Dwt => "DWT",
            CounterKind::Mcycle => "MCYCLE",
            CounterKind::Systick => "SYSTICK",
            CounterKind::NrfTimer => "NRF_TIMER",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qemu {
    pub binary: String,
    /// `-M` value, properties included.
    pub machine: String,
    /// Which of QEMU's serial ports is the console UART.
    #[serde(default)]
    pub serial_index: usize,
}

/// How the programming tools name the chip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programmer {
    #[serde(default)]
    pub probe_rs_chip: Option<String>,
    /// OpenOCD configuration files (`-f`).
    #[serde(default)]
    pub openocd: Vec<String>,
    /// Whether st-flash (stlink-tools) programs it: it writes the .bin at the flash base.
    #[serde(default)]
    pub st_flash: bool,
    #[serde(default)]
    pub pyocd_target: Option<String>,
}

/// The fastest clock a board file may give (a bound that keeps the divisor arithmetic exact).
const MAX_CLOCK_HZ: u64 = 100_000_000_000;

/// The bundled board files, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("netduinoplus2", include_str!("../../boards/netduinoplus2.toml")),
    ("stm32vldiscovery", include_str!("../../boards/stm32vldiscovery.toml")),
    ("microbit", include_str!("../../boards/microbit.toml")),
    ("hifive1", include_str!("../../boards/hifive1.toml")),
    ("nucleo-f446re", include_str!("../../boards/nucleo-f446re.toml")),
    ("stm32f746g-disco", include_str!("../../boards/stm32f746g-disco.toml")),
    ("nrf5340dk", include_str!("../../boards/nrf5340dk.toml")),
    ("pico", include_str!("../../boards/pico.toml")),
];

impl Board {
    /// Parses a board file; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Board> {
        let board: Board =
            toml::from_str(text).map_err(|e| Error::input(format!("{origin}: {}", e.message().replace('\n', " "))))?;
        let bad = |msg: String| Err(Error::input(format!("{origin}: {msg}")));
        let target = Target::load(&board.core).map_err(|e| e.context(format!("{origin}: core")))?;
        if target.emulator.is_none() {
            return bad(format!("core {}: not a device target", board.core));
        }
        if board.clock_hz == 0 || board.clock_hz > MAX_CLOCK_HZ {
            return bad(format!("clock_hz {} must be positive and at most {MAX_CLOCK_HZ}", board.clock_hz));
        }
        for (what, region) in [("memory.flash", board.memory.flash), ("memory.ram", board.memory.ram)] {
            if region.size == 0 || region.base.checked_add(region.size).is_none_or(|end| end > 1 << 32) {
                return bad(format!("{what}: base {:#x} size {:#x} is not a 32-bit region", region.base, region.size));
            }
        }
        if let Some(r) = board.memory.extra.iter().find(|r| {
            r.name.is_empty()
                || !r.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || r.size == 0
                || r.base.checked_add(r.size).is_none_or(|end| end > 1 << 32)
        }) {
            return bad(format!(
                "memory.extra: region '{}' needs a name of lowercase letters, digits or _ and a 32-bit range",
                r.name
            ));
        }
        if let Err(e) = board.uart.kind.divisor(board.uart.clock_hz, board.uart.baud) {
            return bad(format!("uart: {e}"));
        }
        let pins = board.uart.tx_pin.is_some() && board.uart.rx_pin.is_some();
        if board.uart.kind.selects_pins() && !pins {
            return bad(format!("uart: a {} UART needs tx_pin and rx_pin", board.uart.kind.name()));
        }
        if let Some(s) = board.uart.setup.iter().find(|s| s.reg == 0 || s.reg >= 1 << 32) {
            return bad(format!("uart.setup: register {:#x} is not a 32-bit address", s.reg));
        }
        let riscv = target.architecture.starts_with("rv");
        let fits = match board.counter.kind {
            CounterKind::Mcycle => riscv,
            CounterKind::Dwt => !riscv && target.architecture != "armv6-m",
            CounterKind::Systick => !riscv,
            CounterKind::NrfTimer => board.counter.base.is_some(),
        };
        if !fits {
            return bad(format!(
                "counter: {:?} is not available on {} ({}), or lacks its base",
                board.counter.kind, board.core, target.architecture
            ));
        }
        Ok(board)
    }

    /// A bundled board by name, or a board file by path (anything ending in .toml).
    pub fn load(name_or_path: &str) -> Result<Board> {
        if name_or_path.ends_with(".toml") {
            let path = Path::new(name_or_path);
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
            return Board::parse(&text, &path.display().to_string());
        }
        match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => Board::parse(text, &format!("boards/{name}.toml")),
            None => Err(Error::input(format!(
                "--board {name_or_path}: unknown board; known boards: {} (or give a path to a .toml file)",
                Board::names().join(", ")
            ))),
        }
    }

    pub fn names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _)| *n).collect()
    }

    /// The target whose code the board's core runs.
    pub fn target(&self) -> Result<Target> {
        Target::load(&self.core)
    }

    /// Where the vector table starts: the flash base, after the second-stage bootloader if there is one.
    pub fn vector_table(&self) -> u64 {
        self.memory.flash.base + self.boot2.map_or(0, Boot2::size)
    }

    /// The console UART's baud-rate register value.
    pub fn uart_divisor(&self) -> u64 {
        self.uart.kind.divisor(self.uart.clock_hz, self.uart.baud).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_boards_parse_and_name_their_files() {
        for name in Board::names() {
            let board = Board::load(name).unwrap();
            assert_eq!(board.name, name);
            assert!(board.target().unwrap().emulator.is_some());
        }
        assert!(Board::load("nucleo-z9").unwrap_err().message.contains("netduinoplus2"));
    }

    #[test]
    fn divisors_follow_each_uart_family() {
        // 16 MHz / 115200 = 138.9: the STM32's BRR rounds to 139; the FE310 divides by div + 1.
        assert_eq!(UartKind::Stm32Usart.divisor(16_000_000, 115_200), Ok(139));
        assert_eq!(UartKind::SifiveUart.divisor(16_000_000, 115_200), Ok(138));
        assert_eq!(UartKind::NrfUart.divisor(16_000_000, 115_200), Ok(0x01D7_E000));
        assert_eq!(UartKind::NrfUarte.divisor(16_000_000, 115_200), Ok(0x01D6_0000));
        // 12 MHz / (16 x 115200) = 6.51: IBRD 6, FBRD round(0.51 x 64) = 33.
        assert_eq!(UartKind::Pl011.divisor(12_000_000, 115_200), Ok(6 << 6 | 33));
        assert!(UartKind::NrfUart.divisor(16_000_000, 12_345).is_err());
        assert!(UartKind::Stm32Usart.divisor(1_000_000, 115_200).is_err());
    }

    #[test]
    fn malformed_board_files_name_the_field() {
        let text = include_str!("../../boards/microbit.toml");
        let err = Board::parse(&text.replace("tx_pin = 24\n", ""), "b.toml").unwrap_err();
        assert!(err.message.contains("b.toml: uart: a nrf-uart UART needs tx_pin"), "{}", err.message);
        let err = Board::parse(&text.replace("kind = \"nrf-timer\"", "kind = \"dwt\""), "b.toml").unwrap_err();
        assert!(err.message.contains("b.toml: counter"), "{}", err.message);
        let err = Board::parse(&text.replace("core = \"cortex-m0plus\"", "core = \"host\""), "b.toml").unwrap_err();
        assert!(err.message.contains("not a device target"), "{}", err.message);
        let err = Board::parse(&text.replace("baud = 115200", "baud = 115201"), "b.toml").unwrap_err();
        assert!(err.message.contains("115201 baud"), "{}", err.message);
        let err = Board::parse(&text.replace("clock_hz = 16000000\n\n[memory]", "[memory]"), "b.toml").unwrap_err();
        assert!(err.message.contains("clock_hz"), "{}", err.message);
    }
}
