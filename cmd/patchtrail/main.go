// Command patchtrail ingests mailing-list archives, understands the
// patches and reviews in them, links them to git commits and serves it all
// through full-text search: an HTTP API, web pages and this CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"patchtrail/internal/daemon"
	"patchtrail/search"
)

// command is one subcommand.
type command struct {
	name  string
	args  string
	short string
	run   func(ctx context.Context, env *env, args []string) error
	// reads tells whether the command, with these arguments, only reads
	// the data directory: it then runs in a server that holds it
	// (internal/daemon). nil = never.
	reads func(args []string) bool
}

// always is the reads of a command that only ever reads.
func always([]string) bool { return true }

var commands []*command

func register(c *command) { commands = append(commands, c) }

// env is what every subcommand gets: the global flags and outputs.
type env struct {
	data   string
	config string // --config: the configuration file ("" = DATA/patchtrail.toml if present)
	log    *slog.Logger
	stdout io.Writer
	stderr io.Writer

	// served is set in a command that runs inside `serve` for a client
	// (served.go): the server's search index, which the command uses
	// instead of opening it (readIndex).
	served *search.Index
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	global := flag.NewFlagSet("patchtrail", flag.ContinueOnError)
	globalFlags = global
	defData := os.Getenv("PATCHTRAIL_DATA")
	if defData == "" {
		defData = "./patchtrail-data"
	}
	data := global.String("data", defData, "data directory holding all state (env PATCHTRAIL_DATA)")
	config := global.String("config", "", "configuration `FILE` (default DATA/patchtrail.toml when present)")
	verbose := global.Bool("v", false, "verbose logging")
	quiet := global.Bool("q", false, "log warnings and errors only")
	cpuprofile := global.String("cpuprofile", "", "write a CPU profile to `FILE`")
	heapprofile := global.String("heapprofile", "", "write a heap profile to `FILE` at the largest live heap seen (sampled twice a second)")
	global.Usage = func() { usage(global) }
	if err := global.Parse(args); err != nil {
		return 2
	}
	rest := global.Args()
	if len(rest) == 0 {
		usage(global)
		return 2
	}
	cmd := lookup(rest[0])
	if cmd == nil {
		fmt.Fprintf(os.Stderr, "patchtrail: unknown command %q (see `patchtrail help`)\n", rest[0])
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	if *quiet {
		level = slog.LevelWarn
	}
	e := &env{
		data:   *data,
		config: *config,
		stdout: os.Stdout,
		stderr: os.Stderr,
		log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "patchtrail: %v\n", err)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *heapprofile != "" {
		defer peakHeapProfile(*heapprofile, e.log)()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd.reads != nil && cmd.reads(rest[1:]) {
		if code, ok := runInServer(ctx, e, rest, *verbose, *quiet); ok {
			return code
		}
	}
	return dispatch(ctx, e, cmd, rest[1:])
}

// dispatch runs cmd and turns its error into a message on e.stderr and an
// exit status.
func dispatch(ctx context.Context, e *env, cmd *command, args []string) int {
	if err := cmd.run(ctx, e, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "patchtrail %s: %v\nusage: patchtrail %s %s\n", cmd.name, err, cmd.name, cmd.args)
			return 2
		}
		fmt.Fprintf(e.stderr, "patchtrail %s: %v\n", cmd.name, err)
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
	return 0
}

// lookup finds the command called name.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is a wrong invocation of a subcommand.
type usageError string

func (u usageError) Error() string { return string(u) }

func usage(global *flag.FlagSet) {
	w := os.Stderr
	fmt.Fprintf(w, "usage: patchtrail [global flags] COMMAND [flags] [args]\n\nglobal flags:\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprintf(w, "\ncommands:\n")
	cs := append([]*command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-8s %-28s %s\n", c.name, c.args, c.short)
	}
	fmt.Fprintf(w, "\nWhile `serve` runs on the data directory, the commands that read run inside it\n"+
		"(socket DATA/%s) with the same output; writes that need what it holds fail\n"+
		"naming its pid (doc/design.md).\n", daemon.SocketName)
}

// flags makes the flag set of a subcommand; parse errors are usage errors.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("patchtrail "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	// Allow flags after positional arguments, as users type them.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError(err.Error())
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func init() {
	register(&command{name: "help", args: "[TOPIC]", short: "show help (topics: search)", run: runHelp})
}

func runHelp(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		if h, ok := helpTopics[args[0]]; ok {
			fmt.Fprint(e.stdout, h())
			return nil
		}
		return usageError(fmt.Sprintf("no help topic %q (topics: %s)", args[0], strings.Join(topicNames(), ", ")))
	}
	usage(globalFlags)
	return nil
}

var helpTopics = map[string]func() string{}

// globalFlags are the flags before the command, for `patchtrail help`.
var globalFlags = flag.CommandLine

func topicNames() []string {
	var out []string
	for k := range helpTopics {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
