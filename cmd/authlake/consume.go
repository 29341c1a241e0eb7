package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/consume"
)

// eventHubsEnv holds an Event Hubs connection string: a secret, so never a flag (argv is
// visible to every user of the machine).
const eventHubsEnv = "AUTHLAKE_EVENTHUBS_CONNECTION_STRING"

func consumeCmd() *cobra.Command {
	var (
		dataDir, tenant, group, rejects string
		instance, metricsAddr           string
		maxPoll                         int
		brokers, topics                 []string
		trust                           trustFlag
		retention                       retentionFlag
	)
	cmd := &cobra.Command{
		Use:   "consume --data DIR (--brokers HOST:PORT --topic T | $" + eventHubsEnv + ") [--group G]",
		Short: "Ingest sign-ins from Kafka or Azure Event Hubs (diagnostic settings' stream) until interrupted",
		Long: `consume reads the sign-in logs that Entra's diagnostic settings stream to an event hub (or
any Kafka topic): {"records":[...]} messages of the SignInLogs, NonInteractiveUserSignInLogs,
ServicePrincipalSignInLogs and ManagedIdentitySignInLogs categories, or Graph JSON. A message's
offset is committed to the consumer group only once its sign-ins are durable, so a crash replays
what was not committed, and ingest counts the replay as duplicates. Several processes with the
same --group share the partitions.

For Azure Event Hubs, put the connection string (Shared access policies, with Listen rights) in
$` + eventHubsEnv + `: the namespace's Kafka endpoint (port 9093, SASL PLAIN over TLS) and the
event hub (EntityPath, else --topic) come from it.`,
		Example: `  authlake consume --data ./data --brokers 127.0.0.1:9092 --topic insights-logs-signinlogs
  ` + eventHubsEnv + `='Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=…;EntityPath=insights-logs-signinlogs' \
    authlake consume --data ./data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := consume.Options{Brokers: brokers, Topics: topics, Group: group, Tenant: tenant, InstanceID: instance, MaxPollRecords: maxPoll}
			if conn := os.Getenv(eventHubsEnv); conn != "" {
				eh, err := consume.ParseEventHubs(conn)
				if err != nil {
					return err
				}
				if len(opts.Brokers) == 0 {
					opts.Brokers = []string{eh.Broker}
				}
				if len(opts.Topics) == 0 && eh.Topic != "" {
					opts.Topics = []string{eh.Topic}
				}
				opts.Client = eh.ClientOpts()
			}
			if len(opts.Brokers) == 0 || len(opts.Topics) == 0 {
				return fmt.Errorf("name the brokers and the topic (--brokers, --topic), or set $%s", eventHubsEnv)
			}
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			db, err := openDB(dataDir, openOrCreate, engine.Options{Trust: tr})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := retention.apply(db, tenant); err != nil {
				return err
			}
			sink, err := rejectsSink(dataDir, rejects)
			if err != nil {
				return err
			}
			defer sink.Close()
			opts.Rejects = sink
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var st consume.Stats
			if metricsAddr != "" {
				reg := prometheus.NewRegistry()
				reg.MustRegister(st.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				ln, err := net.Listen("tcp", metricsAddr)
				if err != nil {
					return fmt.Errorf("--metrics-addr: %w", err)
				}
				srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
				go srv.Serve(ln)
				defer srv.Close()
				fmt.Fprintf(os.Stderr, "metrics on http://%s/metrics\n", ln.Addr())
			}
			done := make(chan error, 1)
			go func() { done <- consume.Run(ctx, db, opts, &st) }()
			fmt.Fprintf(os.Stderr, "consuming %s from %s as group %s (Ctrl-C stops; offsets are committed once events are durable)\n",
				strings.Join(opts.Topics, ","), strings.Join(opts.Brokers, ","), opts.Group)
			tick := time.NewTicker(10 * time.Second)
			defer tick.Stop()
			report := func() {
				fmt.Fprintf(os.Stderr, "%d messages, %d records: %d accepted, %d updated, %d duplicates, %d rejected; lag %d messages\n",
					st.Messages.Load(), st.Records.Load(), st.Accepted.Load(), st.Updated.Load(), st.Duplicates.Load(), st.Rejected.Load(), st.Lag.Load())
			}
			for {
				select {
				case err := <-done:
					report()
					if err != nil {
						return err
					}
					if n := st.Rejected.Load(); n > 0 {
						return &exitError{code: 2, msg: fmt.Sprintf("%d records rejected: see %s and %s.reasons", n, sink.Path, sink.Path)}
					}
					return nil
				case <-tick.C:
					report()
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "database directory (created if missing)")
	f.StringSliceVar(&brokers, "brokers", nil, "Kafka seed brokers, host:port (comma-separated)")
	f.StringSliceVar(&topics, "topic", nil, "topics to consume (comma-separated; Event Hubs: the event hub)")
	f.StringVar(&group, "group", "authlake", "consumer group: processes with the same group share the partitions")
	f.StringVar(&instance, "instance-id", "", "static group membership: a process restarted with the same id takes its partitions back at once (give each process its own)")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics (throughput, lag) on this address, e.g. 127.0.0.1:9464")
	f.IntVar(&maxPoll, "max-poll", 500, "messages ingested per poll (and committed together)")
	f.StringVar(&tenant, "tenant", "", "tenant whose log the events are (default: each event's resourceTenantId)")
	f.StringVar(&rejects, "rejects", "", "rejects file (default DIR/rejects/<time>.ndjson)")
	trust.register(f)
	retention.register(f)
	return cmd
}
