// Command gorm is the client matrix's gorm check (clients/run): gorm's
// Create() against a running stripesql (the demo) at STRIPESQL_HOST and
// STRIPESQL_PORT. MySQL's OK packet carries only an integer id, so the
// model reads its new cus_… id with stripe_last_insert_id() in an
// AfterCreate hook, which gorm runs inside Create's transaction, on the
// insert's connection: the pattern the README documents. It is its own Go
// module, so stripesql itself does not depend on gorm. Exits non-zero on
// the first failed check.
package main

import (
	"fmt"
	"os"
	"strings"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Customer maps the columns it uses of stripesql's Customers. Id is left
// out of the INSERT when empty (default:null), so Stripe assigns it.
type Customer struct {
	Id    string `gorm:"column:Id;primaryKey;default:null"`
	Name  string `gorm:"column:Name"`
	Email string `gorm:"column:Email"`
}

func (Customer) TableName() string { return "Customers" }

// AfterCreate reads the id Stripe assigned, on Create's connection.
func (c *Customer) AfterCreate(tx *gorm.DB) error {
	if c.Id != "" {
		return nil
	}
	return tx.Raw("SELECT stripe_last_insert_id()").Scan(&c.Id).Error
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "FAIL gorm: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	dsn := fmt.Sprintf("root@tcp(%s:%s)/stripe?parseTime=true", os.Getenv("STRIPESQL_HOST"), os.Getenv("STRIPESQL_PORT"))
	db, err := gorm.Open(mysql.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		fail("open: %v", err)
	}
	c := Customer{Name: "From gorm", Email: "gorm@example.test"}
	if err := db.Create(&c).Error; err != nil {
		fail("Create: %v", err)
	}
	if !strings.HasPrefix(c.Id, "cus_") {
		fail("Create gave Id %q, want cus_…", c.Id)
	}
	var found Customer
	if err := db.First(&found, "Id = ?", c.Id).Error; err != nil || found.Name != "From gorm" {
		fail("First(%s): %+v, %v", c.Id, found, err)
	}
	fmt.Printf("ok gorm: gorm.io/gorm with driver/mysql: Create() gave %s, First() found it\n", c.Id)
}
