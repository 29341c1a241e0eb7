package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/wal"
	ip "github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/identityprotection/attacks"
)

func init() { extraCommands = append(extraCommands, riskCmd) }

// riskEnv is an open database with its Identity Protection store.
type riskEnv struct {
	db     *engine.DB
	store  *ip.Store
	tenant string
}

// openRisk opens the database read-only and its Identity Protection store, read-only too for
// the list commands (which then work beside a server holding the store).
func openRisk(dataDir, tenant string, trust map[string][]string, readOnly bool) (*riskEnv, error) {
	db, err := openDB(dataDir, openReadOnly, engine.Options{DisableBackground: true, Trust: trust})
	if err != nil {
		return nil, err
	}
	t, err := pickTenant(db, tenant)
	if err != nil {
		db.Close()
		return nil, err
	}
	st, err := ip.Open(ip.Dir(db.Dir()), ip.Options{Now: db.Now, ReadOnly: readOnly})
	if errors.Is(err, wal.ErrLocked) {
		err = fmt.Errorf("another authlake process (a server?) holds the Identity Protection store of %s: "+
			"act through its API (/beta/identityProtection/..., or the console) or stop it first", dataDir)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &riskEnv{db: db, store: st, tenant: t}, nil
}

func (e *riskEnv) close() { e.store.Close(); e.db.Close() }

func riskCmd() *cobra.Command {
	var dataDir, tenant string
	root := &cobra.Command{Use: "risk", Short: "Identity Protection: detections, risky users and sign-ins, admin actions"}
	root.PersistentFlags().StringVar(&dataDir, "data", "", "database directory")
	root.PersistentFlags().StringVar(&tenant, "tenant", "", tenantHelp)
	var trust trustFlag
	trust.register(root.PersistentFlags())
	open := func(cmd *cobra.Command, readOnly bool) (*riskEnv, error) {
		tr, err := trust.resolve(cmd.Flags())
		if err != nil {
			return nil, err
		}
		return openRisk(dataDir, tenant, tr, readOnly)
	}

	var anonList, threatList, leakList string
	detect := &cobra.Command{
		Use:   "detect",
		Short: "Run the offline detection jobs (resumable) over recent sign-ins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer env.close()
			for kind, path := range map[string]string{"anonymous": anonList, "threat": threatList} {
				if path == "" {
					continue
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				n, err := env.store.ImportIPList(kind, path, data)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "imported %d %s entries from %s\n", n, kind, path)
			}
			start := time.Now()
			res, err := ip.RunDetection(cmd.Context(), env.db, env.store, env.tenant, ip.JobOptions{Now: env.db.Now})
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "tenant %s: read %d interactive sign-ins (%s .. %s) in %s: %d new detections, %d observations\n",
				env.tenant, res.Events, res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), time.Since(start).Round(time.Millisecond),
				res.Detections, res.Observations)
			if l := res.Learning; l.Users > 0 || (!l.WarmupUntil.IsZero() && l.WarmupUntil.After(res.To)) {
				fmt.Fprintf(os.Stderr, "profile detectors (unfamiliar properties, atypical travel, new country) have not judged everyone yet: "+
					"%d of %d users are still in their learning period (%d sign-ins or %s each)",
					l.Users, l.Users+l.Learned, l.SignInsToLearn, l.LearningPeriod)
				if !l.UsersUntil.IsZero() {
					fmt.Fprintf(os.Stderr, ", the last until %s at the latest", l.UsersUntil.Format(time.RFC3339))
				}
				if l.WarmupUntil.After(res.To) {
					fmt.Fprintf(os.Stderr, "; the tenant's warm-up ends %s", l.WarmupUntil.Format(time.RFC3339))
				}
				fmt.Fprintln(os.Stderr)
			}
			if leakList != "" {
				data, err := os.ReadFile(leakList)
				if err != nil {
					return err
				}
				added, unknown, err := env.store.ImportLeaks(env.tenant, leakList, data, func(id string) (ip.UserRef, bool) {
					refs, _, err := ip.ResolveUsers(context.Background(), env.store, env.db, env.tenant, []string{id})
					if err != nil || len(refs) == 0 {
						return ip.UserRef{}, false
					}
					return refs[0], true
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "leaked credentials: %d new detections, %d unknown users\n", added, len(unknown))
			}
			return nil
		},
	}
	detect.Flags().StringVar(&anonList, "anonymous-ips", "", "anonymous proxy / Tor exit list to import (one IP or CIDR per line)")
	detect.Flags().StringVar(&threatList, "threat-ips", "", "threat-intelligence IP list to import")
	detect.Flags().StringVar(&leakList, "leaks", "", "leaked-credentials list to import (userId[,leakedDateTime] per line)")
	root.AddCommand(detect)

	for _, rep := range []struct{ name, short string }{
		{"detections", "List risk detections (90 days)"},
		{"users", "List risky users"},
		{"signins", "List risky sign-ins (30 days)"},
	} {
		var filter, orderBy, sel, format string
		var top int
		c := &cobra.Command{
			Use:   rep.name,
			Short: rep.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				env, err := open(cmd, true)
				if err != nil {
					return err
				}
				defer env.close()
				req := ip.ListRequest{Filter: filter, OrderBy: orderBy}
				if sel != "" {
					req.Select = strings.Split(sel, ",")
				}
				var list func(ip.ListRequest) (ip.ListResult, error)
				limit := ip.ExportDetectionsCap
				switch rep.name {
				case "detections":
					list = func(r ip.ListRequest) (ip.ListResult, error) { return env.store.ListDetections(env.tenant, r) }
				case "users":
					list, limit = func(r ip.ListRequest) (ip.ListResult, error) { return env.store.ListRiskyUsers(env.tenant, r) }, ip.ExportUsersCap
				default:
					list, limit = func(r ip.ListRequest) (ip.ListResult, error) {
						return env.store.ListRiskySignins(cmd.Context(), env.db, env.tenant, r)
					}, ip.ExportSigninsCap
				}
				if top > 0 && top < limit {
					limit = top
				}
				rows, err := ip.ExportAll(list, req, limit)
				if err != nil {
					return err
				}
				if format == "table" {
					return writeTable(os.Stdout, rows, req.Select, limit)
				}
				_, err = ip.Export(os.Stdout, format, rows, req.Select, limit)
				return err
			},
		}
		c.Flags().StringVar(&filter, "filter", "", "OData $filter")
		c.Flags().StringVar(&orderBy, "orderby", "", "OData $orderby")
		c.Flags().StringVar(&sel, "select", "", "comma-separated columns")
		c.Flags().StringVar(&format, "format", "json", "json, csv or table")
		c.Flags().IntVar(&top, "top", 0, "at most this many rows (default: the download cap)")
		root.AddCommand(c)
	}

	var users, requests, detections []string
	var by, how string
	action := &cobra.Command{
		Use:   "action confirm-compromised|dismiss|confirm-safe|temp-password|require-reset|block|unblock|signin-confirm-compromised|signin-confirm-safe|signin-dismiss|close-detection",
		Short: "Apply an admin action to users (--user), sign-ins (--request) or detections (--detection)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := open(cmd, false)
			if err != nil {
				return err
			}
			defer env.close()
			userKinds := map[string]string{"confirm-compromised": ip.EvConfirmCompromised, "dismiss": ip.EvDismiss, "confirm-safe": ip.EvConfirmSafe,
				"temp-password": ip.EvTempPassword, "require-reset": ip.EvRequireReset, "block": ip.EvBlock, "unblock": ip.EvUnblock}
			signinKinds := map[string]string{"signin-confirm-compromised": ip.ActSigninConfirmCompromised,
				"signin-confirm-safe": ip.ActSigninConfirmSafe, "signin-dismiss": ip.ActSigninDismiss}
			switch {
			case userKinds[args[0]] != "":
				if len(users) == 0 {
					return fmt.Errorf("%s needs --user (an object id or userPrincipalName)", args[0])
				}
				ids, err := resolveUserArgs(cmd.Context(), env.db, env.tenant, users)
				if err != nil {
					return err
				}
				refs, unknown, err := ip.ResolveUsers(cmd.Context(), env.store, env.db, env.tenant, ids)
				if err != nil {
					return err
				}
				if len(unknown) > 0 || len(refs) == 0 {
					return fmt.Errorf("unknown user id(s) in tenant %s: %v", env.tenant, unknown)
				}
				if err := env.store.UserAction(env.tenant, userKinds[args[0]], by, refs); err != nil {
					return err
				}
				printUsers(env.store, env.tenant, refs, args[0])
				return nil
			case signinKinds[args[0]] != "":
				refs, unknown, err := ip.ResolveSignins(cmd.Context(), env.db, env.tenant, requests)
				if err != nil {
					return err
				}
				if len(unknown) > 0 || len(refs) == 0 {
					return fmt.Errorf("unknown sign-in request id(s): %v", unknown)
				}
				if err := env.store.SigninAction(env.tenant, signinKinds[args[0]], by, refs); err != nil {
					return err
				}
				fmt.Printf("%s applied to %d sign-in(s)\n", args[0], len(refs))
				return nil
			case args[0] == "close-detection":
				if err := env.store.CloseDetections(env.tenant, how, by, detections); err != nil {
					return err
				}
				fmt.Printf("closed %d detection(s) as %s\n", len(detections), how)
				return nil
			}
			return fmt.Errorf("unknown action %q", args[0])
		},
	}
	action.Flags().StringSliceVar(&users, "user", nil, "user object id or userPrincipalName (repeatable)")
	action.Flags().StringSliceVar(&requests, "request", nil, "sign-in request id (repeatable)")
	action.Flags().StringSliceVar(&detections, "detection", nil, "risk detection id (repeatable)")
	action.Flags().StringVar(&by, "by", "cli", "who takes the action (recorded as initiatedBy)")
	action.Flags().StringVar(&how, "as", "dismiss", "close-detection outcome: dismiss, confirmSafe or confirmCompromised")
	root.AddCommand(action)

	var events, per int
	var seed uint64
	var out, labelsOut, listsDir string
	genAttacks := &cobra.Command{
		Use:   "gen-attacks",
		Short: "Write generated background sign-ins with labelled attack scenarios (NDJSON), the labels and the lists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := gen.New(gen.Config{Events: events, Seed: seed, End: now()})
			var bg [][]byte
			for {
				l, ok := g.Next(nil)
				if !ok {
					break
				}
				bg = append(bg, []byte(strings.TrimRight(string(l), "\n")))
			}
			o, err := attacks.Inject(bg, attacks.Config{Seed: seed, PerScenario: per})
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			all := &attacks.Output{Events: append(bg, o.Events...)}
			if err := all.WriteNDJSON(f); err != nil {
				return err
			}
			lf, err := os.Create(labelsOut)
			if err != nil {
				return err
			}
			defer lf.Close()
			if err := o.WriteLabels(lf); err != nil {
				return err
			}
			if listsDir != "" {
				for name, lines := range map[string][]string{"anonymous-ips.txt": o.AnonymousIPs, "threat-ips.txt": o.ThreatIPs, "leaks.csv": o.LeakedUsers} {
					if err := os.WriteFile(listsDir+"/"+name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
						return err
					}
				}
			}
			fmt.Fprintf(os.Stderr, "wrote %d background + %d attack events to %s, %d labels to %s\n", len(bg), len(o.Events), out, len(o.Labels), labelsOut)
			return nil
		},
	}
	genAttacks.Flags().IntVar(&events, "events", 60000, "background events (bench/gen)")
	genAttacks.Flags().IntVar(&per, "per-scenario", 6, "scenarios per detection type")
	genAttacks.Flags().Uint64Var(&seed, "seed", 7, "seed")
	genAttacks.Flags().StringVarP(&out, "output", "o", "attacks.ndjson", "events file")
	genAttacks.Flags().StringVar(&labelsOut, "labels", "labels.ndjson", "labels file")
	genAttacks.Flags().StringVar(&listsDir, "lists", ".", "directory for anonymous-ips.txt, threat-ips.txt and leaks.csv (\"\" to skip)")
	root.AddCommand(genAttacks)
	return root
}
