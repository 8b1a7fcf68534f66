fn main() -> std::process::ExitCode {
    autocrea::cli::main()
}
