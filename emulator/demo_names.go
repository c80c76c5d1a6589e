package emulator

// demoVocabulary is the fixed vocabulary of the demo data set; see NewDemo.
type demoVocabulary struct {
	firstNames, lastNames, domains []string
	cities                         []struct{ city, country string }
	plans                          []demoPlan
	goods                          []demoGood
}

// A demoPlan is a recurring product: its monthly price in cents and the
// stem of its prices' lookup keys.
type demoPlan struct {
	name   string
	amount int64
	key    string
}

// A demoGood is a one-time product and its price in cents.
type demoGood struct {
	name      string
	amount    int64
	shippable bool
}

func newDemoVocabulary() demoVocabulary {
	return demoVocabulary{
		firstNames: []string{
			"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
			"Karl", "Laura", "Mallory", "Nina", "Oscar", "Peggy", "Quentin", "Rupert", "Sybil", "Trent",
			"Ursula", "Victor", "Wendy", "Xavier", "Yvonne", "Zack", "Amir", "Beatriz", "Chen", "Dmitri",
			"Elif", "Fatima", "Giorgio", "Hana", "Ines", "Jonas", "Kenji", "Leila", "Mateo", "Noor",
			"Olga", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Vera", "Wei", "Yusuf", "Zoe",
		},
		lastNames: []string{
			"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
			"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
			"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
			"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
			"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
		},
		domains: []string{"example.com", "example.org", "mail.test", "acme.test", "globex.test"},
		cities: []struct{ city, country string }{
			{"San Francisco", "US"}, {"London", "GB"}, {"Berlin", "DE"}, {"Paris", "FR"}, {"Toronto", "CA"}, {"Austin", "US"},
		},
		plans: []demoPlan{
			{"Starter Plan", 900, "starter"}, {"Basic Plan", 1900, "basic"}, {"Pro Plan", 4900, "pro"},
			{"Team Plan", 9900, "team"}, {"Business Plan", 19900, "business"}, {"Enterprise Plan", 49900, "enterprise"},
			{"Analytics Add-on", 1500, "analytics"}, {"Storage Add-on", 500, "storage"},
			{"Priority Support", 2900, "support"}, {"API Access", 2500, "api"},
		},
		goods: []demoGood{
			{"T-Shirt", 2500, true}, {"Hoodie", 5500, true}, {"Coffee Mug", 1500, true}, {"Sticker Pack", 500, true},
			{"Notebook", 1200, true}, {"Water Bottle", 2200, true}, {"Tote Bag", 1800, true}, {"Cap", 2000, true},
			{"Desk Mat", 3500, true}, {"Poster", 1000, true}, {"Onboarding Session", 25000, false},
			{"Consulting Hour", 15000, false}, {"Training Workshop", 90000, false}, {"Setup Fee", 10000, false},
			{"Data Migration", 50000, false}, {"Custom Integration", 250000, false}, {"Audit Report", 75000, false},
			{"E-book", 1900, false}, {"Video Course", 9900, false}, {"Gift Card", 5000, false},
			{"Keyboard", 12900, true}, {"Mouse", 4900, true}, {"Headset", 8900, true}, {"Webcam", 7900, true},
			{"USB Hub", 3900, true}, {"Laptop Stand", 4500, true}, {"Monitor Light", 6900, true},
			{"Legacy Widget", 999, true}, {"Retired Plan Credit", 1000, false}, {"Old Sticker", 300, true},
		},
	}
}
