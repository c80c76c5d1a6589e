package e2e

import (
	"strings"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/specvalidate"
	"github.com/stripesql/stripesql/procedures"
)

// Every procedure of the whole catalog is described as declared:
// information_schema.PARAMETERS lists each parameter by its name, in
// order; SHOW CREATE PROCEDURE, asked in any case, shows the parameters.
func TestProcedureMetadataIsComplete(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.All()
	e := startOn(t, nil, mock, cat)
	procs, err := procedures.Procedures(cat)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range e.query(t, "SELECT SPECIFIC_NAME, PARAMETER_NAME FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = 'stripe' ORDER BY SPECIFIC_NAME, ORDINAL_POSITION") {
		got[r[0].String] = append(got[r[0].String], r[1].String)
	}
	params := 0
	for _, p := range procs {
		var want []string
		for _, prm := range p.Params {
			name, _, _ := strings.Cut(prm, " ")
			want = append(want, name)
		}
		params += len(want)
		if strings.Join(got[p.Name], ",") != strings.Join(want, ",") {
			t.Errorf("PARAMETERS of %s = %v, want %v", p.Name, got[p.Name], want)
		}
	}
	t.Logf("information_schema.PARAMETERS: %d procedures, %d parameters, each as declared", len(procs), params)

	rows := e.query(t, "SHOW CREATE PROCEDURE createaccountlink")
	if len(rows) != 1 || rows[0][0].String != "CreateAccountLink" ||
		!strings.Contains(rows[0][2].String, "CreateAccountLink(IN `Account` VARCHAR(255), IN `Type` VARCHAR(255)") ||
		!strings.Contains(rows[0][2].String, "IN `ReturnUrl` VARCHAR(255)") {
		t.Errorf("SHOW CREATE PROCEDURE createaccountlink = %v", rows)
	}
	status := e.query(t, "SHOW PROCEDURE STATUS LIKE 'CreateAccount%'")
	var names []string
	for _, r := range status {
		names = append(names, r[1].String)
	}
	if !strings.Contains(strings.Join(names, ","), "CreateAccountLink") {
		t.Errorf("SHOW PROCEDURE STATUS LIKE 'CreateAccount%%' = %v", names)
	}
}
