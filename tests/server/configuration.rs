//! The configuration file: the embedded default documents every key with a working example,
//! and a bad value names the format it expects.

use einvoice_mock::Config;

#[test]
fn the_default_configuration_documents_every_server_key_with_a_working_example() {
    let text = include_str!("../../src/config/default.toml");
    for key in [
        "fixed_clock",
        "fixed_tiempo_ejecucion",
        "rate_limit_per_minute",
        "webhook_hosts",
        "body_limit_bytes",
        "read_timeout_ms",
        "admin_token",
        "admin_allow_remote",
        "data_dir",
        "journal_capacity",
        "[[afacturar.invoices]]",
        "[[afacturar.events]]",
        "[[sovos.accounts]]",
    ] {
        assert!(text.contains(key), "default.toml does not document {key}");
    }
    // Every commented `key = value` of [server], uncommented, is a valid configuration.
    let server_end = text.find("[afacturar]").unwrap();
    let uncommented: String = text[..server_end]
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.split(' ').nth(1) == Some("=") => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::from_toml(&format!("{uncommented}\n{}", &text[server_end..]))
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(config.server.rate_limit_per_minute, Some(120));
    assert!(config.server.fixed_clock.is_some());
}

#[test]
fn a_fixed_clock_that_is_not_rfc_3339_names_the_expected_format() {
    let error = Config::from_toml("[server]\nfixed_clock = \"2022-11-30 21:22:17\"\n").unwrap_err();
    let text = format!("{error:#}");
    let chain = {
        let mut chain = text.clone();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        chain
    };
    assert!(chain.contains("RFC 3339"), "{chain}");
    assert!(chain.contains("2022-11-30T21:22:17-05:00"), "{chain}");
}

#[test]
fn a_movement_date_that_is_not_yyyy_mm_dd_names_the_expected_format() {
    let error = Config::from_toml(
        "[[sovos.accounts]]\ncuenta = \"C\"\nrfcs = [{ rfc = \"AAA010101AAA\", estado = \"Autorizado\" }]\n\
         movimientos = [{ rfc = \"AAA010101AAA\", fecha = \"17/10/2019\", monto = 1 }]\n",
    )
    .unwrap_err();
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("yyyy-mm-dd, like `2019-10-17`"), "{chain}");
}
