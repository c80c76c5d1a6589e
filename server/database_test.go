package server

import (
	"testing"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
)

func TestDatabaseForwardsWhatTheInnerDatabaseImplements(t *testing.T) {
	ctx := sql.NewEmptyContext()
	mem := memory.NewDatabase("shop") // implements views, triggers, procedures
	db := database{mem}

	def := sql.ViewDefinition{Name: "v", TextDefinition: "SELECT 1", CreateViewStatement: "CREATE VIEW v AS SELECT 1"}
	if err := db.CreateView(ctx, def.Name, def.TextDefinition, def.CreateViewStatement); err != nil {
		t.Fatalf("CreateView: %v", err)
	}
	if _, ok, err := db.GetViewDefinition(ctx, "v"); !ok || err != nil {
		t.Errorf("GetViewDefinition = %v, %v; want the view", ok, err)
	}
	if got := db.GetCollation(ctx); got != mem.GetCollation(ctx) {
		t.Errorf("GetCollation = %v, want the inner database's %v", got, mem.GetCollation(ctx))
	}
}

func TestDatabaseIsAnEmptyCatalogOverAPlainDatabase(t *testing.T) {
	ctx := sql.NewEmptyContext()
	db := database{bareDB{memory.NewDatabase("shop")}}

	if views, err := db.AllViews(ctx); len(views) != 0 || err != nil {
		t.Errorf("AllViews = %v, %v; want none", views, err)
	}
	if _, ok, err := db.GetViewDefinition(ctx, "v"); ok || err != nil {
		t.Errorf("GetViewDefinition = %v, %v; want not found", ok, err)
	}
	if trs, err := db.GetTriggers(ctx); len(trs) != 0 || err != nil {
		t.Errorf("GetTriggers = %v, %v; want none", trs, err)
	}
	if _, ok, err := db.GetStoredProcedure(ctx, "p"); ok || err != nil {
		t.Errorf("GetStoredProcedure = %v, %v; want not found", ok, err)
	}
	if evs, _, err := db.GetEvents(ctx); len(evs) != 0 || err != nil {
		t.Errorf("GetEvents = %v, %v; want none", evs, err)
	}
	if db.IsReadOnly() {
		t.Error("IsReadOnly = true, want false")
	}
	if got := db.GetCollation(ctx); got != sql.Collation_Default {
		t.Errorf("GetCollation = %v, want the default", got)
	}

	for name, err := range map[string]error{
		"CreateView":          db.CreateView(ctx, "v", "SELECT 1", "CREATE VIEW v AS SELECT 1"),
		"CreateTrigger":       db.CreateTrigger(ctx, sql.TriggerDefinition{Name: "t"}),
		"SaveStoredProcedure": db.SaveStoredProcedure(ctx, sql.StoredProcedureDetails{Name: "p"}),
		"DropEvent":           db.DropEvent(ctx, "e"),
		"SetCollation":        db.SetCollation(ctx, sql.Collation_binary),
	} {
		if err == nil {
			t.Errorf("%s succeeded on a database without support for it", name)
		}
	}
}

func TestProviderServesOneDatabaseAndLowerCasesProcedures(t *testing.T) {
	ctx := sql.NewEmptyContext()
	p, err := newProvider(bareDB{memory.NewDatabase("Shop")}, testProcedures(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasDatabase(ctx, "SHOP") || p.HasDatabase(ctx, "other") {
		t.Error("HasDatabase: want SHOP yes, other no")
	}
	if _, err := p.Database(ctx, "other"); !sql.ErrDatabaseNotFound.Is(err) {
		t.Errorf("Database(other) = %v, want database not found", err)
	}
	if all := p.AllDatabases(ctx); len(all) != 1 || all[0].Name() != "Shop" {
		t.Errorf("AllDatabases = %v, want [Shop]", all)
	}
	d, err := p.ExternalStoredProcedure(ctx, "MYPROC", 1)
	if err != nil || d == nil || d.Name != "myproc" {
		t.Errorf("ExternalStoredProcedure(MYPROC, 1) = %+v, %v; want myproc", d, err)
	}
}
