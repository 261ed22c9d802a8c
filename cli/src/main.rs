//! `kiln`: the command-line front end.
//!
//! Every subcommand takes `--json` for machine-readable output on stdout;
//! human-readable text goes to stdout otherwise and progress to stderr.

use anyhow::Result;
use clap::{Parser, Subcommand};
use kiln_runtime::{devices, DeviceInfo};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(name = "kiln", version, about = "Compile and run language models on the hardware you own")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the devices kiln can run on, with their fingerprints.
    Devices {
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct DeviceJson<'a> {
    selector: &'a str,
    name: &'a str,
    backend: &'a str,
    threads: usize,
    features: &'a [String],
    fingerprint: String,
}

fn device_json(d: &DeviceInfo) -> DeviceJson<'_> {
    DeviceJson { selector: &d.selector, name: &d.name, backend: &d.backend, threads: d.threads, features: &d.features, fingerprint: d.fingerprint() }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Devices { json } => {
            let devs = devices();
            if json {
                let list: Vec<DeviceJson> = devs.iter().map(device_json).collect();
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "devices": list }))?);
            } else {
                for d in &devs {
                    println!("{d}\n  fingerprint: {}", d.fingerprint());
                }
                println!("(GPU adapters are listed once the GPU backend lands.)");
            }
        }
    }
    Ok(())
}
