// Package cli is sonde's command line: the only code that knows flags,
// output formats, colours and exit codes. Each subcommand registers itself
// from its own file through register, and may add a step to `sonde lab
// demo` with addDemoStep.
//
// Exit codes: 0 done, 1 failed, 2 bad input (one line on stderr points at
// the mistake, and nothing was sent or created), 130 interrupted.
//
// # Privileges
//
// Commands that send crafted packets or capture need CAP_NET_RAW (root);
// the lab commands re-execute themselves in a user namespace when not root.
// A permission error is printed with that hint.
//
// # Concurrency
//
// Main runs one command and returns; commands run their libraries
// synchronously and wait for every goroutine they start.
package cli
