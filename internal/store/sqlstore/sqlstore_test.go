package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	pg := &Dialect{Dollar: true}
	lite := &Dialect{}
	for _, c := range []struct{ in, pg string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT x FROM t WHERE a = ? AND b IN (?, ?)`, `SELECT x FROM t WHERE a = $1 AND b IN ($2, $3)`},
		{`UPDATE t SET a = ? WHERE id = ?`, `UPDATE t SET a = $1 WHERE id = $2`},
		{`SELECT 'é' FROM t WHERE a = ?`, `SELECT 'é' FROM t WHERE a = $1`},
	} {
		if got := pg.rebind(c.in); got != c.pg {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.pg)
		}
		if got := lite.rebind(c.in); got != c.in {
			t.Errorf("SQLite rebind(%q) = %q, want it unchanged", c.in, got)
		}
	}
}
