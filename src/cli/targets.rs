use clap::Args;

use super::print;
use ompqc::report::targets::targets_text;
use ompqc::target::Target;
use ompqc::Result;

#[derive(Args)]
pub struct TargetsArgs {
    #[arg(long)]
    json: bool,
}

impl TargetsArgs {
    pub fn run(self) -> Result<()> {
        let targets = Target::all()?;
        print(self.json, &targets, || targets_text(&targets))
    }
}
