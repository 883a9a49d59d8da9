//! Section and symbol sizes read from compiled ELF objects and images with `object`. Sections are classed as
//! binutils' `size` classes them (text + rodata = its "text"), so the figures can be checked against it.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, SectionFlags};
use serde::Serialize;

use crate::error::{Error, Result};

/// Bytes per section class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Sections {
    /// Executable code.
    pub text: u64,
    /// Read-only data (constants, weights): in flash.
    pub rodata: u64,
    /// Initialised writable data: in flash (the initial values) and in RAM.
    pub data: u64,
    /// Zero-initialised data: in RAM only.
    pub bss: u64,
}

impl Sections {
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }

    fn add(&mut self, other: Sections) {
        self.text += other.text;
        self.rodata += other.rodata;
        self.data += other.data;
        self.bss += other.bss;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SymbolSize {
    pub name: String,
    pub size: u64,
    /// text, rodata, data or bss.
    pub class: &'static str,
}

/// The sizes of ELF files: their sections and their defined symbols, largest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ElfSizes {
    pub sections: Sections,
    pub symbols: Vec<SymbolSize>,
}

/// Reads and sums the sizes of `paths` (objects or linked images).
pub fn read(paths: &[impl AsRef<Path>]) -> Result<ElfSizes> {
    let mut total = ElfSizes::default();
    for path in paths {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::internal(format!("{}: {e}", path.display())))?;
        total.add(&bytes, &path.display().to_string())?;
    }
    total.sort();
    Ok(total)
}

/// Reads and sums the sizes of the object members of the archive at `path` (a Rust crate's rlib: its own code).
pub fn read_archive(path: &Path) -> Result<ElfSizes> {
    let bytes = std::fs::read(path).map_err(|e| Error::internal(format!("{}: {e}", path.display())))?;
    let bad = |e: object::Error| Error::internal(format!("{}: not an archive ({e})", path.display()));
    let archive = object::read::archive::ArchiveFile::parse(&*bytes).map_err(bad)?;
    let mut total = ElfSizes::default();
    for member in archive.members() {
        let member = member.map_err(bad)?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        if name.ends_with(".o") {
            total.add(member.data(&*bytes).map_err(bad)?, &format!("{}({name})", path.display()))?;
        }
    }
    total.sort();
    Ok(total)
}

impl ElfSizes {
    /// Adds the sections and defined symbols of the ELF file `bytes` (named `label` in errors).
    fn add(&mut self, bytes: &[u8], label: &str) -> Result<()> {
        let file =
            object::File::parse(bytes).map_err(|e| Error::internal(format!("{label}: not an object file ({e})")))?;
        let mut classes = std::collections::HashMap::new();
        for section in file.sections() {
            let Some(class) = class_of(section.flags()) else { continue };
            classes.insert(section.index(), class);
            let size = section.size();
            let add = match class {
                "text" => Sections { text: size, ..Default::default() },
                "rodata" => Sections { rodata: size, ..Default::default() },
                "data" => Sections { data: size, ..Default::default() },
                _ => Sections { bss: size, ..Default::default() },
            };
            self.sections.add(add);
        }
        for symbol in file.symbols() {
            let Some(class) = symbol.section_index().and_then(|i| classes.get(&i)) else { continue };
            let name = symbol.name().unwrap_or("");
            if symbol.size() > 0 && symbol.is_definition() && !name.is_empty() {
                self.symbols.push(SymbolSize { name: name.to_string(), size: symbol.size(), class });
            }
        }
        Ok(())
    }

    /// Largest symbols first.
    fn sort(&mut self) {
        self.symbols.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
    }
}

/// The class of an allocated section, as binutils' `size` counts it: code and read-only data make its "text",
/// writable sections with contents its "data", the rest its "bss". Sections not loaded at run time are `None`.
fn class_of(flags: SectionFlags) -> Option<&'static str> {
    let SectionFlags::Elf { sh_type, sh_flags } = flags else { return None };
    let has = |f: object::elf::SectionFlags| sh_flags.0 & f.0 != 0;
    if !has(object::elf::SHF_ALLOC) {
        return None;
    }
    Some(if has(object::elf::SHF_EXECINSTR) {
        "text"
    } else if !has(object::elf::SHF_WRITE) {
        "rodata"
    } else if sh_type == object::elf::SHT_NOBITS {
        "bss"
    } else {
        "data"
    })
}
