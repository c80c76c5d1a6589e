package tables

import (
	"testing"

	"github.com/stripesql/stripesql/catalog"
)

// Over Stripe's whole catalog: names are valid MySQL identifiers and
// unique, every key points at a served table's Id, and polymorphic fields
// are left out.
func TestForeignKeysOfTheFullCatalog(t *testing.T) {
	cat := catalog.All()
	names := map[string]bool{}
	total, polymorphic := 0, 0
	for _, def := range cat.Tables() {
		for _, c := range def.Columns {
			if c.Polymorphic {
				polymorphic++
			}
		}
		for _, fk := range declaredKeys("stripe", cat, def) {
			total++
			if len(fk.Name) > 64 || names[fk.Name] {
				t.Errorf("foreign key name %q: too long or repeated", fk.Name)
			}
			names[fk.Name] = true
			parent, ok := cat.Lookup(fk.ParentTable)
			if !ok || parent.Name != fk.ParentTable || fk.ParentColumns[0] != catalog.PrimaryKey {
				t.Errorf("%s points at %s.%v", fk.Name, fk.ParentTable, fk.ParentColumns)
			}
			col := def.Columns[def.ColumnIndex(fk.Columns[0])]
			if col.Polymorphic || col.Ref == "" {
				t.Errorf("%s declared on %s.%s (polymorphic %v, ref %q)", fk.Name, def.Name, col.Name, col.Polymorphic, col.Ref)
			}
		}
	}
	if total < 100 || polymorphic == 0 {
		t.Errorf("%d foreign keys, %d polymorphic references left out", total, polymorphic)
	}
	t.Logf("%d foreign keys over %d tables; %d polymorphic references left out", total, len(cat.Tables()), polymorphic)
}
