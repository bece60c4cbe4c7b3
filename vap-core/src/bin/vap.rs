//! The `vap` command line (see [`vap_core::cli`]): `vap --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(a) => args.push(a),
            Err(a) => {
                eprintln!("vap: argument {a:?} is not valid UTF-8");
                return ExitCode::from(2);
            }
        }
    }
    let code = vap_core::cli::run(&args, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
