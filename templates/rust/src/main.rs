//! {{ p.name }} serves the {{ p.name }} API over HTTP and gRPC.
//!
//! This file is yours: it assembles the server from the generated pieces,
//! as go-kit's addsvc does in cmd/addsvc. Add your own layers to endpoints,
//! routes to the HTTP router, change timeouts here; `kitgen generate`
//! merges its own improvements in and keeps your lines.
//!
//! Every flag can also be set through the environment: --http-addr is
//! {{ p.env_prefix }}_HTTP_ADDR, and so on. Flags win over the environment.

use std::process::ExitCode;
use std::time::Duration;

{% if p.crate_name.as_str() > "clap" -%}
use clap::Parser;
{% endif -%}
use {{ p.crate_name }}::endpoint::{Endpoints, Instrumentation, Metrics, RateLimit, Services};
{% if p.etcd -%}
use {{ p.crate_name }}::{discovery, server, transport};
{% else -%}
use {{ p.crate_name }}::{server, transport};
{% endif -%}
{% if p.crate_name.as_str() <= "clap" -%}
use clap::Parser;
{% endif %}
/// Serves the {{ p.name }} API over HTTP and gRPC.
#[derive(Parser, Debug)]
#[command(name = "{{ p.name }}", version)]
struct Flags {
    /// HTTP listen address
    #[arg(long, env = "{{ p.env_prefix }}_HTTP_ADDR", default_value = ":8081")]
    http_addr: String,
    /// gRPC listen address
    #[arg(long, env = "{{ p.env_prefix }}_GRPC_ADDR", default_value = ":8082")]
    grpc_addr: String,
    /// debug listen address, serving /metrics
    #[arg(long, env = "{{ p.env_prefix }}_DEBUG_ADDR", default_value = ":8080")]
    debug_addr: String,
    /// requests per second allowed to each method; 0 disables the limit
    #[arg(long, env = "{{ p.env_prefix }}_RATE_LIMIT", default_value_t = 0.0)]
    rate_limit: f64,
    /// requests allowed at once above a method's rate limit
    #[arg(long, env = "{{ p.env_prefix }}_RATE_BURST", default_value_t = 100)]
    rate_burst: u32,
    /// how long one request may take; 0 means no limit
    #[arg(long, env = "{{ p.env_prefix }}_REQUEST_TIMEOUT", default_value = "30s", value_parser = server::parse_duration)]
    request_timeout: Duration,
    /// how long to keep serving after readiness turns false at shutdown
    #[arg(long, env = "{{ p.env_prefix }}_DRAIN_DELAY", default_value = "0s", value_parser = server::parse_duration)]
    drain_delay: Duration,
    /// how long in-flight requests may run after the listeners close
    #[arg(long, env = "{{ p.env_prefix }}_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = server::parse_duration)]
    shutdown_timeout: Duration,
    /// OTLP/gRPC collector to export traces to, such as localhost:4317; empty leaves it to OTEL_EXPORTER_OTLP_ENDPOINT, else tracing is off
    #[arg(long, env = "{{ p.env_prefix }}_OTLP_ENDPOINT", default_value = "")]
    otlp_endpoint: String,
{%- if p.etcd %}
    /// comma-separated etcd endpoints to register with
    #[arg(long, env = "{{ p.env_prefix }}_ETCD_ADDR", default_value = "")]
    etcd_addr: String,
    /// gRPC address to register; defaults to the listening one
    #[arg(long, env = "{{ p.env_prefix }}_ADVERTISE_ADDR", default_value = "")]
    advertise_addr: String,
{%- endif %}
    /// lowest level logged: debug (every request), info, warn or error
    #[arg(long, env = "{{ p.env_prefix }}_LOG_LEVEL", default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Flags::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{{ p.name }}: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(flags: Flags) -> Result<(), server::Error> {
    // Traces go over OTLP/gRPC, only when a collector is configured.
    let spans = server::Tracing::start("{{ p.name }}", &flags.otlp_endpoint)?;
    server::init_logging(&flags.log_level, spans.as_ref())?;

    // The middleware of every endpoint. To add a layer of your own to one
    // method, replace its endpoint below (see the endpoint module).
    let registry = prometheus::Registry::new();
    let instrumentation = Instrumentation {
        metrics: Some(Metrics::new(&registry, "{{ p.metrics_namespace }}")?),
        timeout: Some(flags.request_timeout).filter(|t| !t.is_zero()),
        rate_limit: (flags.rate_limit > 0.0).then_some(RateLimit {
            per_second: flags.rate_limit,
            burst: flags.rate_burst,
        }),
        tracing: spans.is_some(),
    };
    let services = Services {
{%- for s in p.services %}
{{ p.services_field(s) }}
{%- endfor %}
    };
    let endpoints = Endpoints::new(&instrumentation, services);

    let listeners =
        server::Listeners::bind(&flags.http_addr, &flags.grpc_addr, &flags.debug_addr).await?;
{%- if p.etcd %}
    // At SIGTERM from here on: shut down, or give up registering.
    let mut signal = std::pin::pin!(server::shutdown_signal());

    // Registration: instances sign up before serving, and leave first at
    // shutdown, before readiness turns off.
    let registration = if flags.etcd_addr.is_empty() {
        None
    } else {
        let instance = discovery::advertised(&flags.advertise_addr, listeners.grpc.local_addr()?)?;
        let etcd: Vec<String> = flags.etcd_addr.split(',').map(str::to_string).collect();
        tokio::select! {
            registration = discovery::register_etcd(&etcd, &instance) => Some(registration?),
            () = &mut signal => {
                return Err(format!("registering with etcd at {}: interrupted", flags.etcd_addr).into());
            }
        }
    };
    let timeout = flags.shutdown_timeout;
    let leave = async move {
        if let Some(registration) = registration
            && let Err(err) = registration.deregister(timeout).await
        {
            tracing::warn!(error = %err, "leaving etcd");
        }
    };

{%- endif %}
    let (probes, health) = server::Probes::new().await;
    // HTTP: wrap the router in your tower layers, or add routes to it.
    let http = transport::http::router(endpoints.clone());
    let grpc = transport::grpc::routes(&endpoints).add_service(health);
    let debug = server::debug_routes(registry);
    let group = server::Group {
        drain: flags.drain_delay,
        timeout: flags.shutdown_timeout,
    };
    let served = group
{%- if p.etcd %}
        .run_leaving(listeners, http, grpc, debug, probes, signal, leave)
{%- else %}
        .run(
            listeners,
            http,
            grpc,
            debug,
            probes,
            server::shutdown_signal(),
        )
{%- endif %}
        .await;
    if let Some(spans) = spans {
        spans.stop().await;
    }
    served
}
