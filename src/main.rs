fn main() -> std::process::ExitCode {
    kitgen::cli::main()
}
