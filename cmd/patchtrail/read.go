package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"patchtrail/api"
	"patchtrail/internal/message"
	"patchtrail/internal/store"
	"patchtrail/internal/thread"
	"patchtrail/internal/trace"
)

func init() {
	register(&command{name: "show", args: "[--json|--raw] MSGID", short: "show one message", run: runShow, reads: always})
	register(&command{name: "thread", args: "[--json] MSGID", short: "show the thread of a message as a tree", run: runThread, reads: always})
}

func openRead(ctx context.Context, e *env) (*store.Store, error) {
	return store.Open(ctx, e.data, &store.Options{ReadOnly: true})
}

// runView runs a read-only command that shows the one object its one
// argument (what) names: load reads it from the store, and it is printed
// as JSON with --json, else by print.
func runView[T any](ctx context.Context, e *env, args []string, name, what, jsonHelp string,
	load func(context.Context, *store.Store, string) (T, error), print func(*env, T) error) error {
	return runWireView(ctx, e, args, name, what, jsonHelp, load, func(v T) T { return v }, print)
}

// runWireView is runView for a domain view printed with --json in its
// wire form (api's types).
func runWireView[T, W any](ctx context.Context, e *env, args []string, name, what, jsonHelp string,
	load func(context.Context, *store.Store, string) (T, error), wire func(T) W, print func(*env, T) error) error {
	fs := e.flags(name)
	asJSON := fs.Bool("json", false, jsonHelp)
	arg, err := parseOne(fs, args, what)
	if err != nil {
		return err
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := load(ctx, st, arg)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e, wire(v))
	}
	return print(e, v)
}

// loadThread loads the thread of the message named by mid, with the
// messages of the same subject outside it.
func loadThread(ctx context.Context, st *store.Store, mid string) (*thread.View, error) {
	m, err := st.MessageRowByID(ctx, mid)
	if err != nil {
		return nil, err
	}
	return thread.Load(ctx, st, m, trace.SameSubjectLimit)
}

// parseOne parses the flags of a command that takes exactly one
// argument (what names it in the usage error) and returns it.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", usageError("want exactly one " + what)
	}
	return fs.Arg(0), nil
}

func runShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("show")
	asJSON := fs.Bool("json", false, "print the parsed message as JSON")
	raw := fs.Bool("raw", false, "print the raw message")
	mid, err := parseOne(fs, args, "MSGID")
	if err != nil {
		return err
	}
	st, err := openRead(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	if *raw {
		id, err := st.Resolve(ctx, mid)
		if err != nil {
			return err
		}
		b, err := st.Raw(ctx, id)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(b)
		return err
	}
	if *asJSON {
		v, err := api.LoadMessageDetail(ctx, st, mid)
		if err != nil {
			return err
		}
		return writeJSON(e, v)
	}
	p, err := st.ParsedMessage(ctx, mid)
	if err != nil {
		return err
	}
	v, m := p.Row, p.Msg
	w := e.stdout
	fmt.Fprintf(w, "Message-ID: <%s>\n", v.MessageID)
	fmt.Fprintf(w, "From: %s\n", formatName(v.FromName, v.FromEmail))
	if len(m.To) > 0 {
		fmt.Fprintf(w, "To: %s\n", formatAddrs(m.To))
	}
	if len(m.Cc) > 0 {
		fmt.Fprintf(w, "Cc: %s\n", formatAddrs(m.Cc))
	}
	fmt.Fprintf(w, "Subject: %s\n", v.Subject)
	fmt.Fprintf(w, "Date: %s\n", v.Date.Format("Mon, 2 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(w, "Lists: %s\n", strings.Join(v.Lists, ", "))
	if v.Parent != "" {
		fmt.Fprintf(w, "In-Reply-To: <%s>\n", v.Parent)
	}
	for _, a := range p.Meta.Attachments {
		fmt.Fprintf(w, "Attachment: %s (%s, %d bytes)\n", a.Name, a.Type, a.Size)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(w, "Problem: %s\n", p)
	}
	body := m.Text
	fmt.Fprintf(w, "\n%s", body)
	if !strings.HasSuffix(body, "\n") {
		fmt.Fprintln(w)
	}
	return nil
}

// formatName is "Name <email>", or the address alone without a name.
func formatName(name, email string) string {
	if name == "" {
		return email
	}
	return name + " <" + email + ">"
}

func formatAddrs(as []message.Address) string {
	var s []string
	for _, a := range as {
		s = append(s, formatName(a.Name, a.Email))
	}
	return strings.Join(s, ", ")
}

func runThread(ctx context.Context, e *env, args []string) error {
	return runWireView(ctx, e, args, "thread", "MSGID", "print the thread as JSON", loadThread, api.WireThread, printThread)
}

// printThread prints a thread for people.
func printThread(e *env, v *thread.View) error {
	w := e.stdout
	var walk func(ns []*thread.Node, depth int)
	walk = func(ns []*thread.Node, depth int) {
		for _, n := range ns {
			ind := strings.Repeat("  ", depth)
			if m, ok := n.Value.(*store.Message); ok && !n.Ghost {
				fmt.Fprintf(w, "%s%s  %s  %s  <%s>\n", ind, m.Date.Format("2006-01-02 15:04"), m.Subject, formatName(m.FromName, m.FromEmail), n.MessageID)
			} else {
				fmt.Fprintf(w, "%s[not received] <%s>\n", ind, n.MessageID)
			}
			walk(n.Children, depth+1)
		}
	}
	fmt.Fprintf(w, "thread %d: %d messages\n", v.ID, len(v.Messages))
	walk(v.Roots, 0)
	if len(v.SameSubject) > 0 {
		fmt.Fprintf(w, "\nsame subject, not in this thread:\n")
		for _, m := range v.SameSubject {
			fmt.Fprintf(w, "  %s  %s  %s  <%s>\n", m.Date.Format("2006-01-02 15:04"), m.Subject, formatName(m.FromName, m.FromEmail), m.MessageID)
		}
	}
	return nil
}
