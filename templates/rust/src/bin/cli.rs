//! {{ p.cli_name }} calls a method of {{ p.name }} over gRPC or HTTP:
//!
//! ```text
//! {{ p.cli_name }} --grpc-addr localhost:8082 --method {{ p.first_method().proto_name }} '{{ p.first_method_example() }}'
//! {{ p.cli_name }} --http-addr localhost:8081 --method {{ p.first_method().proto_name }} '{{ p.first_method_example() }}'
//! ```
//!
//! Requests and responses are JSON in the protobuf mapping, one message an
//! argument and one response a line; client-streaming methods take several
//! (over gRPC: HTTP carries the unary methods).
//! This file is yours.

{% if p.etcd -%}
use std::net::{SocketAddr, ToSocketAddrs};
{% endif -%}
use std::process::ExitCode;
use std::time::Duration;

{% if p.crate_name.as_str() > "clap" -%}
use clap::Parser;
{% endif -%}
{% if p.etcd -%}
use {{ p.crate_name }}::discovery::{Balanced, Discovery, Options};
{% endif -%}
use {{ p.crate_name }}::{client, server, transport};
{% if p.crate_name.as_str() <= "clap" -%}
use clap::Parser;
{% endif %}
/// Calls a method of {{ p.name }} over gRPC or HTTP.
#[derive(Parser, Debug)]
#[command(name = "{{ p.cli_name }}", version)]
{%- if p.etcd %}
#[command(group(
    clap::ArgGroup::new("addr")
        .required(true)
        .args(["grpc_addr", "http_addr", "etcd_addr", "dns_srv"])
))]
{%- else %}
#[command(group = clap::ArgGroup::new("addr").required(true).args(["grpc_addr", "http_addr"]))]
{%- endif %}
struct Flags {
    /// gRPC address of {{ p.name }}, e.g. localhost:8082
    #[arg(long, env = "{{ p.cli_env_prefix() }}_GRPC_ADDR")]
    grpc_addr: Option<String>,
    /// HTTP address of {{ p.name }}, e.g. localhost:8081
    #[arg(long, env = "{{ p.cli_env_prefix() }}_HTTP_ADDR")]
    http_addr: Option<String>,
{%- if p.etcd %}
    /// comma-separated etcd endpoints: call the instances registered there
    #[arg(long, env = "{{ p.cli_env_prefix() }}_ETCD_ADDR")]
    etcd_addr: Option<String>,
    /// DNS SRV name, such as a headless Service: call the instances it lists
    #[arg(long, env = "{{ p.cli_env_prefix() }}_DNS_SRV")]
    dns_srv: Option<String>,
    /// DNS server to ask for --dns-srv, such as Consul's 127.0.0.1:8600
    /// (default: the system's resolvers)
    #[arg(long, env = "{{ p.cli_env_prefix() }}_DNS_SERVER", conflicts_with_all = ["grpc_addr", "http_addr", "etcd_addr"], value_parser = dns_server)]
    dns_server: Option<SocketAddr>,
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
{%- if p.etcd %}

/// A DNS server's `host:port`: its first address.
fn dns_server(text: &str) -> Result<SocketAddr, String> {
    let mut addrs = text
        .to_socket_addrs()
        .map_err(|e| format!("{text:?}: {e} (want host:port)"))?;
    addrs.next().ok_or_else(|| format!("{text:?}: no address"))
}
{%- endif %}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse();
    let (method, requests, timeout) = (&flags.method, &flags.requests, flags.timeout);
{%- if p.etcd %}
    let discovery = match (&flags.etcd_addr, &flags.dns_srv) {
        (Some(etcd), _) => Some(Discovery::Etcd(
            etcd.split(',').map(str::to_string).collect(),
        )),
        (None, Some(name)) => Some(Discovery::DnsSrv {
            name: name.clone(),
            server: flags.dns_server,
        }),
        (None, None) => None,
    };
    // clap has made sure exactly one address is given.
    let call = match (&flags.http_addr, discovery) {
        (Some(addr), _) => {
            transport::http::client::call_json(addr, method, requests, timeout).await
        }
        // Balanced over the instances discovery finds.
        (None, Some(discovery)) => match Balanced::new(discovery, Options::default()) {
            Ok(balanced) => {
                let call = client::call_json_over(balanced, method, requests);
                tokio::time::timeout(timeout, call)
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
            }
            Err(e) => Err(e.to_string()),
        },
        (None, None) => {
            let addr = flags.grpc_addr.as_deref().unwrap_or_default();
            client::call_json(addr, method, requests, timeout).await
        }
    };
{%- else %}
    // clap has made sure exactly one address is given.
    let call = match &flags.http_addr {
        Some(addr) => transport::http::client::call_json(addr, method, requests, timeout).await,
        None => {
            let addr = flags.grpc_addr.as_deref().unwrap_or_default();
            client::call_json(addr, method, requests, timeout).await
        }
    };
{%- endif %}
    match call {
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
