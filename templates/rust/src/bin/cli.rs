//! {{ p.cli_name }} calls a method of {{ p.name }} over gRPC:
//!
//! ```text
//! {{ p.cli_name }} --grpc-addr localhost:8082 --method {{ p.first_method().proto_name }} '{{ p.first_method_example() }}'
//! ```
//!
//! Requests and responses are JSON in the protobuf mapping, one message an
//! argument and one response a line; client-streaming methods take several.
//! This file is yours.

use std::process::ExitCode;
use std::time::Duration;

{% if p.crate_name.as_str() > "clap" -%}
use clap::Parser;
{% endif -%}
use {{ p.crate_name }}::{client, server};
{% if p.crate_name.as_str() <= "clap" -%}
use clap::Parser;
{% endif %}
/// Calls a method of {{ p.name }} over gRPC.
#[derive(Parser, Debug)]
#[command(name = "{{ p.cli_name }}", version)]
struct Flags {
    /// gRPC address of {{ p.name }}, e.g. localhost:8082
    #[arg(long, env = "{{ p.cli_env_prefix() }}_GRPC_ADDR")]
    grpc_addr: String,
    /// method to call, such as {{ p.first_method().proto_name }}
    #[arg(long, env = "{{ p.cli_env_prefix() }}_METHOD")]
    method: String,
    /// how long the call may take
    #[arg(long, env = "{{ p.cli_env_prefix() }}_TIMEOUT", default_value = "10s", value_parser = server::parse_duration)]
    timeout: Duration,
    /// requests in proto3 JSON
    requests: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse();
    let call = client::call_json(
        &flags.grpc_addr,
        &flags.method,
        &flags.requests,
        flags.timeout,
    );
    match call.await {
        Ok(responses) => {
            for response in responses {
                println!("{response}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{{ p.cli_name }}: {err}");
            ExitCode::FAILURE
        }
    }
}
