package consume

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// EventHubs is what an Azure Event Hubs connection string says, for its Kafka endpoint: the
// namespace's host on port 9093, SASL PLAIN over TLS with the user "$ConnectionString" and the
// connection string itself as the password, and the event hub (EntityPath) as the topic.
type EventHubs struct {
	Broker string // NAMESPACE.servicebus.windows.net:9093
	Topic  string // EntityPath, "" when the string is the namespace's
	conn   string
}

// ParseEventHubs reads a connection string as the Azure portal shows it:
// Endpoint=sb://NAMESPACE.servicebus.windows.net/;SharedAccessKeyName=NAME;SharedAccessKey=KEY[;EntityPath=HUB].
// Errors never repeat the key.
func ParseEventHubs(conn string) (EventHubs, error) {
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimSpace(conn), ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return EventHubs{}, fmt.Errorf("event hubs connection string: %q is not KEY=VALUE", redact(part))
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	for _, k := range []string{"endpoint", "sharedaccesskeyname", "sharedaccesskey"} {
		if fields[k] == "" {
			return EventHubs{}, fmt.Errorf("event hubs connection string: %s is missing (copy it from the namespace's or the event hub's Shared access policies)", k)
		}
	}
	u, err := url.Parse(fields["endpoint"])
	if err != nil || u.Scheme != "sb" || u.Hostname() == "" {
		return EventHubs{}, fmt.Errorf("event hubs connection string: Endpoint %q is not sb://NAMESPACE.servicebus.windows.net/", fields["endpoint"])
	}
	return EventHubs{Broker: u.Hostname() + ":9093", Topic: fields["entitypath"], conn: strings.TrimSpace(conn)}, nil
}

// ClientOpts are the franz-go options that connect to the namespace's Kafka endpoint.
func (e EventHubs) ClientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}),
		kgo.SASL(plain.Auth{User: "$ConnectionString", Pass: e.conn}.AsMechanism()),
	}
}

func redact(part string) string {
	if k, _, ok := strings.Cut(part, "="); ok {
		return k + "=…"
	}
	if len(part) > 8 {
		return part[:4] + "…"
	}
	return part
}
