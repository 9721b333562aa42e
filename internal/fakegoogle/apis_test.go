package fakegoogle

import "net/http"

// This file emulates an API the way a file of the package would, with no
// edit elsewhere: notes that every account keeps, a read method and a write
// method. The tests of api_test.go call it through a real HTTP server.

// notesScope is the scope of the example notes API.
const notesScope = "https://www.googleapis.com/auth/tasks.readonly"

// notes are each account's notes; the demo accounts start with one naming
// their owner.
var notes = newPerAccount(func(a Account) []string {
	return []string{"Welcome, " + a.Name}
})

func init() {
	apis = append(apis,
		api{pattern: "GET /example/v1/notes", scopes: []string{notesScope}, serve: func(c *call) reply {
			return c.json(http.StatusOK, map[string]any{"owner": c.account.Email, "notes": *notes.of(c)})
		}},
		api{pattern: "POST /example/v1/notes", scopes: []string{notesScope}, serve: func(c *call) reply {
			var in struct{ Text string }
			if err := c.decode(&in); err != nil || in.Text == "" {
				return c.error(http.StatusBadRequest, "invalidArgument", "A note needs a text.")
			}
			n := notes.of(c)
			*n = append(*n, in.Text)
			return c.json(http.StatusOK, map[string]any{"notes": len(*n)})
		}},
	)
}
