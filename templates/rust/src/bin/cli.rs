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
{% if p.etcd -%}
use {{ p.crate_name }}::discovery::{Balanced, Discovery, Options};
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
{%- if p.etcd %}
    #[arg(long, env = "{{ p.cli_env_prefix() }}_GRPC_ADDR", required_unless_present_any = ["etcd_addr", "dns_srv"], conflicts_with_all = ["etcd_addr", "dns_srv"])]
    grpc_addr: Option<String>,
    /// comma-separated etcd endpoints: call the instances registered there
    #[arg(long, env = "{{ p.cli_env_prefix() }}_ETCD_ADDR", conflicts_with = "dns_srv")]
    etcd_addr: Option<String>,
    /// DNS SRV name, such as a headless Service: call the instances it lists
    #[arg(long, env = "{{ p.cli_env_prefix() }}_DNS_SRV")]
    dns_srv: Option<String>,
{%- else %}
    #[arg(long, env = "{{ p.cli_env_prefix() }}_GRPC_ADDR")]
    grpc_addr: String,
{%- endif %}
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
{%- if p.etcd %}
    let discovery = match (flags.etcd_addr, flags.dns_srv) {
        (Some(etcd), _) => Some(Discovery::Etcd(
            etcd.split(',').map(str::to_string).collect(),
        )),
        (None, Some(name)) => Some(Discovery::DnsSrv(name)),
        (None, None) => None,
    };
    let call = async {
        match discovery {
            // Balanced over the instances discovery finds.
            Some(discovery) => {
                let balanced =
                    Balanced::new(discovery, Options::default()).map_err(|e| e.to_string())?;
                let call = client::call_json_over(balanced, &flags.method, &flags.requests);
                tokio::time::timeout(flags.timeout, call)
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {:?}", flags.timeout)))
            }
            None => {
                let addr = flags.grpc_addr.unwrap_or_default();
                client::call_json(&addr, &flags.method, &flags.requests, flags.timeout).await
            }
        }
    };
{%- else %}
    let call = client::call_json(
        &flags.grpc_addr,
        &flags.method,
        &flags.requests,
        flags.timeout,
    );
{%- endif %}
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
