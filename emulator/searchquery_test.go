package emulator

import (
	"fmt"
	"testing"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		in   string
		want string // fmt of clauses, then or
	}{
		{`email:"a@b.c"`, `[{false email  : a@b.c true false}] false`},
		{`-name~'ann' AND amount>=10`, `[{true name  ~ ann true false} {false amount  >= 10 false false}] false`},
		{`status:"paid" or status:"open"`, `[{false status  : paid true false} {false status  : open true false}] true`},
		{`metadata["order id"]:"7" created<5`, `[{false metadata order id : 7 true false} {false created  < 5 false false}] false`},
		{`email:null`, `[{false email  : null false true}]`[:0] + `[{false email  : null false true}] false`},
		{`name:"a \"quoted\" \\ value"`, `[{false name  : a "quoted" \ value true false}] false`},
		{`name:'it\'s'`, `[{false name  : it's true false}] false`},
		{`  name:"x"   AND   email:"y"  `, `[{false name  : x true false} {false email  : y true false}] false`},
		{`a.b.c:"x"`, `[{false a.b.c  : x true false}] false`},
	}
	for _, tc := range cases {
		q, err := parseQuery(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := fmt.Sprint(q.clauses, q.or); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{``, `   `, `name`, `name:`, `name:"x" AND`, `name:"x"OR`, `:x`, `name:"x`, `metadata:"x"`,
		`metadata["k"`, `name:x`, `a:"1" AND b:"2" OR c:"3"`, `a:"1" b:"2" OR c:"3"`} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
