fn main() {
    std::process::exit(kitgen::cli::main());
}
