package diagnostic

import (
	"os"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
)

func TestExplore(t *testing.T) {
	db := openTestDB(t)
	generated(t, db, gen.Config{Events: 20000, Seed: 7, Days: 20})
	rep, err := diagnose(t, db, Input{User: "lena", At: time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC), Explain: true, Top: 5})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteText(os.Stdout)
}
