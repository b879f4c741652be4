//! The rate-limit flags of generated binaries (`crate::cli`).

use super::{FailMode, Rate, RateLimitSettings, store_from_str};
use crate::server::Server;

/// Rate limits (docs/rate-limits.md): each flag replaces the spec's
/// `rateLimits:` value at its level.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RateLimitArgs {
    /// Where rate-limit counters live: memory, or redis://HOST:PORT to
    /// share them between instances (needs the `redis` feature).
    #[arg(long, value_name = "STORE", env = "MCP_RATE_LIMIT_STORE")]
    pub(crate) rate_limit_store: Option<String>,
    /// When the store cannot answer: let calls through (open) or refuse
    /// them (closed).
    #[arg(long, value_name = "open|closed", env = "MCP_RATE_LIMIT_FAIL", default_value = "open", value_parser = parse_fail)]
    pub(crate) rate_limit_fail: FailMode,
    /// HTTP requests per client (IP, or authenticated principal), e.g. 10/1s.
    #[arg(long, value_name = "RATE", env = "MCP_RATE_LIMIT_PER_CLIENT", value_parser = parse_rate)]
    pub(crate) rate_limit_per_client: Option<Rate>,
    /// HTTP requests to this server, all instances sharing the store.
    #[arg(long, value_name = "RATE", env = "MCP_RATE_LIMIT_SERVER", value_parser = parse_rate)]
    pub(crate) rate_limit_server: Option<Rate>,
    /// HTTP requests to every server sharing the store.
    #[arg(long, value_name = "RATE", env = "MCP_RATE_LIMIT_GLOBAL", value_parser = parse_rate)]
    pub(crate) rate_limit_global: Option<Rate>,
    /// Calls of one tool, as NAME=RATE (e.g. search=5/1m); repeatable.
    #[arg(long, value_name = "NAME=RATE", env = "MCP_RATE_LIMIT_TOOLS", value_delimiter = ',', value_parser = parse_tool)]
    pub(crate) rate_limit_tool: Vec<(String, Rate)>,
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    s.parse()
}

fn parse_fail(s: &str) -> Result<FailMode, String> {
    s.parse()
}

fn parse_tool(s: &str) -> Result<(String, Rate), String> {
    let (name, rate) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=RATE (e.g. search=5/1m)"))?;
    Ok((name.trim().to_owned(), rate.parse()?))
}

impl RateLimitArgs {
    /// The settings these flags give.
    pub(crate) fn settings(&self) -> Result<RateLimitSettings, String> {
        let store = match &self.rate_limit_store {
            Some(s) => Some(store_from_str(s)?),
            None => None,
        };
        Ok(RateLimitSettings {
            store,
            fail: self.rate_limit_fail,
            per_client: self.rate_limit_per_client,
            server: self.rate_limit_server,
            global: self.rate_limit_global,
            tools: self.rate_limit_tool.clone(),
        })
    }

    /// Apply the flags to `server`.
    pub(crate) fn apply(&self, server: &Server) -> Result<(), String> {
        server.configure_rate_limits(self.settings()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Args;
    use crate::ratelimit::FailMode;
    use clap::Parser;

    #[test]
    fn rate_limit_flags_parse() {
        let a = Args::try_parse_from([
            "bin",
            "--rate-limit-store",
            "memory",
            "--rate-limit-fail",
            "closed",
            "--rate-limit-per-client",
            "10/1s",
            "--rate-limit-server",
            "100/1m",
            "--rate-limit-global",
            "1000/1h",
            "--rate-limit-tool",
            "search=5/1m",
            "--rate-limit-tool",
            "fetch=1/1s",
        ])
        .unwrap();
        let s = a.rate_limits.settings().unwrap();
        assert_eq!(s.store.unwrap().describe(), "memory");
        assert_eq!(s.fail, FailMode::Closed);
        assert_eq!(s.per_client, Some("10/1s".parse().unwrap()));
        assert_eq!(s.server, Some("100/1m".parse().unwrap()));
        assert_eq!(s.global, Some("1000/1h".parse().unwrap()));
        assert_eq!(
            s.tools,
            [
                ("search".to_owned(), "5/1m".parse().unwrap()),
                ("fetch".to_owned(), "1/1s".parse().unwrap())
            ]
        );
        let d = Args::try_parse_from(["bin"]).unwrap().rate_limits;
        assert_eq!(d.rate_limit_fail, FailMode::Open);
        assert!(d.rate_limit_store.is_none() && d.rate_limit_tool.is_empty());
        for bad in [
            ["--rate-limit-fail", "maybe"],
            ["--rate-limit-server", "lots"],
            ["--rate-limit-tool", "search"],
        ] {
            assert!(
                Args::try_parse_from(["bin", bad[0], bad[1]]).is_err(),
                "{bad:?}"
            );
        }
        let a = Args::try_parse_from(["bin", "--rate-limit-store", "mysql://x"]).unwrap();
        assert!(a.rate_limits.settings().is_err());
    }
}
