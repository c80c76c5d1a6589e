package emulator

import "net/http"

// Test clocks (/v1/test_helpers/test_clocks): the simulated time of the
// customers attached to them and of those customers' invoices, invoice
// items, quotes and subscriptions.
//
// The emulator keeps a clock's frozen_time but does not simulate the time
// it stands for: objects on a clock are created at the emulator clock's
// time, and advancing a clock renews, bills or expires nothing. An advance
// completes at once (status "ready"), where Stripe answers "advancing" and
// finishes asynchronously. deletes_after is recorded, never acted on.

// testClockLifetime is how long after its creation Stripe schedules a test
// clock's deletion (deletes_after), as Stripe's API reference examples show.
const testClockLifetime = 7 * day

func testClockDefaults(tx *tx, o object) {
	o["deletes_after"] = tx.unix() + testClockLifetime
	o["status"] = "ready"
	o["status_details"] = object{}
}

// createTestClock attaches the customer named by the customer param, if
// any, to the new clock.
func createTestClock(tx *tx, o object, p params) *apiError {
	id := p.str("customer")
	if id == "" {
		return nil
	}
	cust, err := tx.mustGet("customer", id, "customer")
	if err != nil {
		return err
	}
	if clock := str(cust, "test_clock"); clock != "" {
		return invalidRequest("customer", "Customer %s is already attached to test clock %s.", id, clock)
	}
	tx.attachTestClock(cust, str(o, "id"))
	return nil
}

// attachTestClock puts a customer and the billing objects that follow its
// clock (invoices, invoice items, quotes, subscriptions) on a test clock.
func (tx *tx) attachTestClock(cust object, clockID string) {
	cust["test_clock"] = clockID
	tx.touchObj(cust)
	for _, name := range []string{"invoice", "invoiceitem", "quote", "subscription"} {
		for _, r := range tx.s.live(name, func(o object) bool { return o["customer"] == cust["id"] }) {
			r.obj["test_clock"] = clockID
			tx.touch(r)
		}
	}
}

// advanceTestClock moves a clock's frozen_time forward. The advance is
// instantaneous and has no effect on the objects on the clock (see above).
func advanceTestClock(tx *tx, r *record, p params) (any, *apiError) {
	clock := r.obj
	to, _ := p.int("frozen_time")
	if cur := intOf(clock, "frozen_time"); to <= cur {
		return nil, invalidRequest("frozen_time", "The frozen_time must be after the test clock's current frozen time (%d); test clocks cannot go back in time.", cur)
	}
	clock["frozen_time"] = to
	clock["status"] = "ready"
	clock["status_details"] = object{}
	return clock, nil
}

// deleteTestClock removes a clock and, as Stripe does, the customers on it
// (each deleted as DELETE /v1/customers/{id} would: its cards removed, its
// payment methods detached, its subscriptions canceled). The customers'
// invoices, invoice items and quotes stay, still naming the clock.
func deleteTestClock(tx *tx, r *record, p params) (any, *apiError) {
	id := str(r.obj, "id")
	for _, c := range tx.s.live("customer", func(o object) bool { return str(o, "test_clock") == id }) {
		if _, err := deleteCustomer(tx, c, p); err != nil {
			return nil, err
		}
	}
	return deleteRemove(tx, r, p)
}

// checkTestClock returns the error Stripe gives for a test_clock param
// naming no clock: resource_missing, answered with 404.
func (tx *tx) checkTestClock(id string) *apiError {
	if tx.get("test_helpers.test_clock", id) != nil {
		return nil
	}
	err := errNoSuch(tx.res("test_helpers.test_clock").word, id, "test_clock")
	err.status = http.StatusNotFound
	return err
}
