package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/currentop/currentop/internal/demo"
	"github.com/currentop/currentop/internal/report"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/huawei"
	"github.com/currentop/currentop/source/mongodb"
	"github.com/currentop/currentop/source/tencent"
	"github.com/currentop/currentop/ui"
)

// Exit codes.
const (
	exitOK          = 0
	exitSource      = 1 // the source failed: one line on stderr says what to do
	exitUsage       = 2
	exitInterrupted = 130 // ctrl+c or SIGTERM during --once or --list, as shells report SIGINT
)

// envURI is read when no URI is given on the command line, so that a password need not appear
// in ps output.
const envURI = "CURRENTOP_MONGODB_URI"

const defaultURI = "mongodb://localhost:27017"

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module
// version from the build info is used.
var version = ""

// config is everything the command line says.
type config struct {
	source   string
	uri      string
	demo     bool
	topology string
	once     bool
	format   string
	pane     string
	groupBy  string
	interval time.Duration
	timeout  time.Duration
	readonly bool
	idle     bool
	system   bool
	filter   string
	members  string // --members: all, primary or host:port[,host:port…]
	list     bool
	version  bool
	// intervalSet: --interval was given (a source may otherwise pick a gentler default).
	intervalSet bool
	// topologySet: --topology was given (the cloud demos otherwise run on one node).
	topologySet bool
	// stormThreshold: new connections per second from one client IP, over 3 refreshes,
	// that the live view calls a connection storm.
	stormThreshold float64
	// pause waits between --once's two vitals samples; nil waits vitalsGap (tests inject it).
	pause func(ctx context.Context) error

	// cloud sources
	instance  string
	region    string
	endpoint  string
	projectID string
	node      string
	token     string
}

var sources = []string{"mongodb", "tencent", "huawei"}

// seconds is a duration flag where a bare number means seconds (--interval 2, --interval 0.5)
// and units are case-insensitive (2S), like the running-time filter.
type seconds struct{ d *time.Duration }

func (v seconds) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v seconds) Set(s string) error {
	t := strings.ToLower(strings.TrimSpace(s))
	if f, err := strconv.ParseFloat(t, 64); err == nil && strings.Trim(t, "0123456789.") == "" {
		if f > float64(math.MaxInt64)/float64(time.Second) {
			return errors.New("too long")
		}
		*v.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return errors.New("use a duration such as 2s or 500ms, or a number of seconds")
	}
	*v.d = d
	return nil
}

// usageError is a mistake on the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("currentop", flag.ContinueOnError)
	// Errors are printed by run as one line; the usage text only on --help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.source, "source", "mongodb", "where the data comes from: mongodb (direct), tencent or huawei")
	fs.BoolVar(&c.demo, "demo", false, "run against the built-in simulated deployment and workload")
	fs.StringVar(&c.topology, "topology", demo.DefaultTopology, "with --demo: replset, single (the default with a cloud --source) or sharded")
	fs.BoolVar(&c.once, "once", false, "print one snapshot and exit")
	fs.StringVar(&c.format, "format", "table", "with --once: json, csv or table")
	fs.StringVar(&c.pane, "pane", "all", "with --once csv/table: sessions, clients or all")
	fs.StringVar(&c.groupBy, "group-by", "", "with --once: print sessions rolled up by shape, app, ns, client, user, op, plan or host")
	c.interval, c.timeout = 2*time.Second, 5*time.Second
	fs.Var(seconds{&c.interval}, "interval", "refresh interval, 0.5s to 60s: a `duration` (2s, 500ms) or a number of seconds (2)")
	fs.Var(seconds{&c.timeout}, "timeout", "connect and command timeout: a `duration` (5s) or a number of seconds")
	fs.BoolVar(&c.readonly, "readonly", false, "never offer to kill operations")
	fs.BoolVar(&c.idle, "idle", false, "include idle connections, sessions and cursors")
	fs.BoolVar(&c.system, "system", false, "include internal and system operations")
	fs.StringVar(&c.filter, "filter", "", "initial filter, e.g. 'op:query running>1s'")
	fs.Float64Var(&c.stormThreshold, "storm-threshold", source.DefaultStormThreshold, "new connections per second from one client IP, sustained over 3 refreshes, that the live view calls a connection storm")
	fs.StringVar(&c.members, "members", "", "replica sets, sharded clusters, cloud instances: which members to watch, `all` (default), primary, or HOST:PORT[,HOST:PORT…] (cloud: node names)")
	fs.BoolVar(&c.list, "list", false, "cloud sources: list the instances (and nodes) and exit")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.StringVar(&c.instance, "instance", "", "cloud sources: the instance ID")
	fs.StringVar(&c.region, "region", "", "cloud sources: the region")
	fs.StringVar(&c.endpoint, "endpoint", "", "cloud sources: override the API endpoint")
	fs.StringVar(&c.projectID, "project-id", "", "huawei: the project ID")
	fs.StringVar(&c.node, "node", "", "huawei: one node ID (default: every node that serves sessions)")
	fs.StringVar(&c.token, "token", "", "huawei: an IAM token instead of AK/SK (prefer $"+huawei.EnvToken+")")
	return fs
}

func printUsage(out io.Writer) {
	var c config
	fs := newFlagSet(&c)
	fs.SetOutput(out)
	fmt.Fprintf(out, `currentop: top for MongoDB connections and in-flight operations

usage:
  currentop [flags] [mongodb-uri]     default %s, or $%s
  currentop --demo                    the built-in simulator: a replica set (add --source
                                      tencent|huawei, --topology single|sharded)
  currentop --once --format json URI  one snapshot for scripts
  currentop --source tencent --instance cmgo-xxxxxxxx [--region ap-guangzhou]
  currentop --source huawei --region cn-north-4 --project-id P --instance I [--node N]

flags:
`, defaultURI, envURI)
	fs.PrintDefaults()
	fmt.Fprintln(out, "\nInside the program, ? shows every key.")
}

// parseArgs reads the command line. Flags may come before or after the URI.
func parseArgs(args []string) (config, error) {
	var c config
	fs := newFlagSet(&c)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, err
			}
			return c, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	fs.Visit(func(f *flag.Flag) {
		c.intervalSet = c.intervalSet || f.Name == "interval"
		c.topologySet = c.topologySet || f.Name == "topology"
	})
	switch len(positional) {
	case 0:
	case 1:
		c.uri = positional[0]
	default:
		return c, usageError{fmt.Sprintf("one MongoDB URI at most, got %d arguments (quote a URI that contains & or ?)", len(positional))}
	}
	return c, c.validate()
}

func (c *config) validate() error {
	c.source = strings.ToLower(strings.TrimSpace(c.source))
	if !slices.Contains(sources, c.source) {
		return usageError{fmt.Sprintf("unknown --source %q: use one of %s", c.source, strings.Join(sources, ", "))}
	}
	if !slices.Contains(report.Formats, c.format) {
		return usageError{fmt.Sprintf("unknown --format %q: use one of %s", c.format, strings.Join(report.Formats, ", "))}
	}
	if !slices.Contains(report.Panes, c.pane) {
		return usageError{fmt.Sprintf("unknown --pane %q: use one of %s", c.pane, strings.Join(report.Panes, ", "))}
	}
	if c.groupBy != "" && !slices.Contains(source.GroupBys, c.groupBy) {
		return usageError{fmt.Sprintf("unknown --group-by %q: use one of %s", c.groupBy, strings.Join(source.GroupBys, ", "))}
	}
	if c.groupBy != "" && !c.once {
		return usageError{"--group-by goes with --once (the live view's grouping has its own keys)"}
	}
	if c.interval < 500*time.Millisecond || c.interval > 60*time.Second {
		return usageError{fmt.Sprintf("--interval %s is out of range: use 0.5s to 60s", c.interval)}
	}
	if !(c.stormThreshold > 0) || math.IsInf(c.stormThreshold, 1) {
		return usageError{fmt.Sprintf("--storm-threshold %v must be a positive number of connections per second, e.g. 10", c.stormThreshold)}
	}
	if c.timeout <= 0 {
		return usageError{fmt.Sprintf("--timeout %s must be positive, e.g. 5s", c.timeout)}
	}
	if c.uri != "" && c.source != "mongodb" {
		return usageError{fmt.Sprintf("a MongoDB URI goes with --source mongodb; --source %s takes --instance and --region", c.source)}
	}
	if c.uri != "" && c.demo {
		return usageError{"--demo runs its own simulated deployment: drop the URI"}
	}
	if !slices.Contains(demo.Topologies, c.topology) {
		return usageError{fmt.Sprintf("unknown --topology %q: use %s", c.topology, strings.Join(demo.Topologies, ", "))}
	}
	if c.topologySet && !c.demo {
		return usageError{"--topology picks the simulated deployment: add --demo"}
	}
	if !c.topologySet && c.source != "mongodb" {
		// Each call of a cloud API's emulator reads the whole simulated deployment: on a
		// replica set that is three members' worth of idle sessions per page.
		c.topology = "single"
	}
	if c.list && c.source == "mongodb" {
		return usageError{"--list lists cloud instances: add --source tencent or --source huawei"}
	}
	type setting struct{ flag, value string }
	cloud := []setting{{"--instance", c.instance}, {"--region", c.region}, {"--endpoint", c.endpoint}}
	huaweiOnly := []setting{{"--project-id", c.projectID}, {"--node", c.node}, {"--token", c.token}}
	for _, f := range append(cloud, huaweiOnly...) {
		if f.value != "" && c.source == "mongodb" {
			return usageError{fmt.Sprintf("%s is for the cloud sources: add --source tencent or --source huawei", f.flag)}
		}
	}
	for _, f := range huaweiOnly {
		if f.value != "" && c.source == "tencent" {
			return usageError{fmt.Sprintf("%s is for --source huawei", f.flag)}
		}
	}
	if _, err := source.ParseFilter(c.filter); err != nil {
		return usageError{fmt.Sprintf("--filter: %v", err)}
	}
	return c.validateMembers()
}

// validateMembers checks --members: a keyword, or host:port entries (node names for the
// cloud sources); whether they are members is for the source to say.
func (c *config) validateMembers() error {
	m := strings.TrimSpace(c.members)
	switch strings.ToLower(m) {
	case "", source.MembersAll, source.MembersPrimary:
		c.members = strings.ToLower(m)
		return nil
	}
	for _, h := range strings.Split(m, ",") {
		if h = strings.TrimSpace(h); h == "" || strings.ContainsAny(h, " \t") {
			return usageError{fmt.Sprintf("--members %q: use all, primary, or host:port entries (a cloud source's node names) separated by commas", m)}
		}
	}
	c.members = m
	return nil
}

func (c *config) query() source.Query {
	f, _ := source.ParseFilter(c.filter) // validated
	return source.Query{IdleConnections: c.idle, IdleSessions: c.idle, IdleCursors: c.idle, System: c.system, Filter: f, Members: c.members}
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return exitOK
	}
	// Every error line is scrubbed of whatever on the command line could be a secret: a
	// mistyped flag or URI is echoed by the parsers that reject it.
	secrets := argSecrets(args)
	if err != nil {
		fmt.Fprintf(stderr, "currentop: %s\n", oneLine(mongodb.Scrub(err.Error(), secrets)))
		fmt.Fprintln(stderr, "run currentop --help for the flags")
		return exitUsage
	}
	if c.version {
		fmt.Fprintln(stdout, "currentop", versionString())
		return exitOK
	}
	if err := execute(ctx, c, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			// The driver's own words for a cancelled operation (topology dumps) help nobody.
			ie := interruptedError{doing(c)}
			errors.As(err, &ie)
			fmt.Fprintf(stderr, "currentop: %s\n", oneLine(mongodb.Scrub(ie.Error(), secrets)))
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "currentop: %s\n", oneLine(mongodb.Scrub(err.Error(), secrets)))
		return exitSource
	}
	return exitOK
}

// interruptedError is ctrl+c or SIGTERM during --once or --list.
type interruptedError struct{ while string }

func (e interruptedError) Error() string { return "interrupted while " + e.while }

// doing says what the program was at, for "interrupted while …".
func doing(c config) string {
	switch {
	case c.list:
		return "listing the instances of " + target(c)
	case c.once:
		return "reading " + target(c)
	}
	return "watching " + target(c)
}

// target names what the flags point at, secrets masked.
func target(c config) string {
	switch {
	case c.demo:
		return "the demo"
	case c.source != "mongodb" && c.instance != "":
		return c.source + " instance " + c.instance
	case c.source != "mongodb":
		return c.source
	}
	return mongodb.MaskURI(mongoURI(c))
}

func mongoURI(c config) string {
	uri := c.uri
	if uri == "" {
		uri = os.Getenv(envURI)
	}
	if uri == "" {
		uri = defaultURI
	}
	return uri
}

// argSecrets are the pieces of the command line and of $CURRENTOP_MONGODB_URI that could be
// secrets: the passwords and secret options of anything shaped like a URI, and the --token.
func argSecrets(args []string) []string {
	var out []string
	for i, a := range append(slices.Clone(args), os.Getenv(envURI)) {
		out = append(out, mongodb.Secrets(a)...)
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "token" || !strings.HasPrefix(a, "-") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		if len(value) >= 3 {
			out = append(out, value)
		}
	}
	return out
}

func execute(ctx context.Context, c config, stdout, stderr io.Writer) error {
	live := !c.list && !c.once
	if live && (!term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd())) {
		return errors.New("the live view needs a terminal: run it in one, or print a snapshot with --once --format json|csv|table")
	}
	var (
		src source.Source
		err error
	)
	switch {
	case c.demo:
		d, err := demo.Start(ctx, demo.Config{Source: c.source, Timeout: c.timeout, Outages: live, Topology: c.topology})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer d.Close()
		src = d.Source
	case live && c.source == "mongodb":
		// Connecting happens on screen: it says what it connects to, and q quits meanwhile.
		return watch(ctx, c, ui.Options{Target: target(c), Connect: func(ctx context.Context) (source.Source, error) {
			return open(ctx, c)
		}})
	default:
		src, err = open(ctx, c)
		if err != nil && ctx.Err() != nil {
			return interruptedError{"connecting to " + target(c)}
		}
		if err != nil {
			return err
		}
		if cl, ok := src.(io.Closer); ok {
			defer cl.Close()
		}
	}

	switch {
	case c.list:
		return list(ctx, src, c, stdout)
	case c.once:
		return once(ctx, src, c, stdout, stderr)
	}
	return watch(ctx, c, ui.Options{Source: src})
}

// watch runs the live view with the flags' settings.
func watch(ctx context.Context, c config, opts ui.Options) error {
	q, interval := c.live(opts.Source)
	opts.Interval, opts.Readonly, opts.Query = interval, c.readonly, q
	opts.StormThreshold = c.stormThreshold
	return ui.Run(ctx, opts)
}

// live is the live view's query and refresh interval. A source that limits how often and how
// much it may be read (a source.Pacer: Huawei) sets the pace unless --interval was given;
// --once reads all it can.
func (c *config) live(src source.Source) (source.Query, time.Duration) {
	q, interval := c.query(), c.interval
	if p, ok := src.(source.Pacer); ok {
		q.Limit = p.ViewLimit()
		if !c.intervalSet {
			interval = p.DefaultInterval()
		}
	}
	return q, interval
}

// open builds the source the flags name.
func open(ctx context.Context, c config) (source.Source, error) {
	switch c.source {
	case "tencent":
		cred, err := tencent.CredentialsFromEnv()
		if err != nil {
			return nil, err
		}
		if c.instance == "" && !c.list {
			return nil, errors.New("tencent: no instance: pass --instance cmgo-xxxxxxxx (currentop --source tencent --list shows them)")
		}
		return tencent.New(tencent.Config{InstanceID: c.instance, Region: c.region, Endpoint: c.endpoint,
			Credentials: cred, Timeout: c.timeout})
	case "huawei":
		cred, err := huawei.CredentialsFromEnv()
		if c.token != "" {
			cred, err = huawei.Credentials{Token: c.token}, nil
		}
		if err != nil {
			return nil, err
		}
		if c.instance == "" && !c.list {
			return nil, errors.New("huawei: no instance: pass --instance ID (currentop --source huawei --list shows them)")
		}
		return huawei.New(huawei.Config{Region: c.region, ProjectID: c.projectID, InstanceID: c.instance,
			NodeID: c.node, Endpoint: c.endpoint, Credentials: cred, Timeout: c.timeout})
	default:
		return mongodb.Open(ctx, mongodb.Config{URI: mongoURI(c), Timeout: c.timeout})
	}
}

func once(ctx context.Context, src source.Source, c config, stdout, stderr io.Writer) error {
	q := c.query()
	// What the output prints, nothing more: the sessions' fields and their commands (which
	// the server may truncate), not each operation's whole document.
	q.Lean, q.Commands = true, true
	ctx, cancel := context.WithTimeout(ctx, 3*c.timeout+vitalsGap)
	defer cancel()
	first := firstSample(ctx, src, c)
	snap, err := src.Snapshot(ctx, q)
	if err != nil {
		return err
	}
	if snap.Vitals == nil {
		// Without a first sample (a cloud source, or serverStatus refused) the gauges still show.
		snap.Vitals = source.ComputeVitals(first, snap.Server.Sample)
	}
	show(snap, q)
	// A partial snapshot still prints, but a script must be able to tell: the warnings go to
	// stderr (the table shows them inline too).
	for _, w := range snap.Warnings {
		fmt.Fprintf(stderr, "currentop: warning: %s\n", oneLine(w))
	}
	if c.groupBy != "" {
		return report.WriteGroups(stdout, c.format, c.groupBy, snap)
	}
	return report.Write(stdout, c.format, c.pane, snap)
}

// vitalsGap is how far apart --once takes its two samples: rates need an interval.
const vitalsGap = time.Second

// firstSample reads the first of --once's two samples and waits vitalsGap; nil when the
// source has no samples or could not read one (vitals are then absent, the snapshot still prints).
func firstSample(ctx context.Context, src source.Source, c config) *source.Sample {
	sp, ok := src.(source.Sampler)
	if !ok {
		return nil
	}
	first, err := sp.Sample(ctx)
	if err != nil {
		return nil
	}
	pause := c.pause
	if pause == nil {
		pause = func(ctx context.Context) error {
			t := time.NewTimer(vitalsGap)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if pause(ctx) != nil {
		return nil
	}
	return first
}

// show narrows and orders a snapshot as the live view shows it: what the query's toggles and
// filter let through (internal clients only with --system), sessions longest running first
// (ties by ID), clients by connection count.
func show(snap *source.Snapshot, q source.Query) {
	source.Apply(snap, q)
	snap.Clients = slices.DeleteFunc(snap.Clients, func(c source.Client) bool { return !q.ShowsClient(&c) })
	source.SortSessions(snap.Sessions)
	source.SortClients(snap.Clients)
}

func list(ctx context.Context, src source.Source, c config, stdout io.Writer) error {
	l, ok := src.(source.Lister)
	if !ok {
		return fmt.Errorf("--source %s cannot list instances", c.source)
	}
	ctx, cancel := context.WithTimeout(ctx, 6*c.timeout)
	defer cancel()
	insts, err := l.List(ctx)
	if err != nil {
		return err
	}
	return report.Instances(stdout, c.format, insts)
}

// oneLine keeps an error on one line of the terminal.
func oneLine(s string) string {
	s = source.Clean(s)
	return strings.Join(strings.Fields(s), " ")
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
