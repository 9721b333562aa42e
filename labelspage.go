package oauthgmail

import (
	"cmp"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/api/gmail/v1"
)

// labelsFields are the fields of users.labels.list the labels page shows.
const labelsFields = "labels(name,type,labelListVisibility,color)"

// labelsPage is the data of the labels page (templates/labels.html): the
// labels as Gmail's own list shows them, or those matching a search.
type labelsPage struct {
	Count int    // every label Gmail returned
	Query string // the search (?q=), trimmed; empty shows every label

	System     []*labelNode // Gmail's system labels, in Gmail's order
	Categories []*labelNode // the inbox categories, Primary first
	User       []*labelNode // the user's own labels, as a tree of nested labels
	Hidden     []*labelNode // labels Gmail hides from its list, full names
	Matches    []*labelNode // with a Query: the labels whose name contains it
}

// labelNode is one label on the page.
type labelNode struct {
	Name     string // its name in the API: "INBOX", "Projects/Clients/Acme"
	Display  string // what Gmail shows: "Inbox"; "Acme" under its parent
	Parent   string // the name before Display, "Projects/Clients/", said but not shown
	System   bool
	Color    string // a CSS class for Gmail's color, or ""
	Children []*labelNode
	Href     template.URL // the label in Gmail's web client, for the signed-in account
	fragment string       // where Gmail shows it: "inbox", "label/Acme"
}

// systemLabelInfo is how Gmail shows one of its system labels.
type systemLabelInfo struct {
	id, display, fragment string // its API name, shown name, place in Gmail's web client
	category, hidden      bool   // an inbox category; kept out of Gmail's list
}

// gmailSystemLabels are Gmail's system labels in the order of its list,
// with the names Gmail shows and the address of each in Gmail's web client.
// Categories and the labels Gmail keeps out of its list are flagged.
var gmailSystemLabels = []systemLabelInfo{
	{"INBOX", "Inbox", "inbox", false, false},
	{"STARRED", "Starred", "starred", false, false},
	{"SNOOZED", "Snoozed", "snoozed", false, false},
	{"IMPORTANT", "Important", "imp", false, false},
	{"SENT", "Sent", "sent", false, false},
	{"SCHEDULED", "Scheduled", "scheduled", false, false},
	{"DRAFT", "Drafts", "drafts", false, false},
	{"SPAM", "Spam", "spam", false, false},
	{"TRASH", "Trash", "trash", false, false},
	{"CATEGORY_PERSONAL", "Primary", "inbox", true, false},
	{"CATEGORY_SOCIAL", "Social", "category/social", true, false},
	{"CATEGORY_UPDATES", "Updates", "category/updates", true, false},
	{"CATEGORY_FORUMS", "Forums", "category/forums", true, false},
	{"CATEGORY_PROMOTIONS", "Promotions", "category/promotions", true, false},
	{"CHAT", "Chats", "chats", false, true},
	{"UNREAD", "Unread", "search/is%3Aunread", false, true},
}

// systemLabelNames are the names Gmail shows people for its system labels,
// whose API names are identifiers such as CATEGORY_PROMOTIONS.
var systemLabelNames = func() map[string]string {
	m := map[string]string{}
	for _, l := range gmailSystemLabels {
		m[l.id] = l.display
	}
	return m
}()

// maxQuery bounds the search, in characters.
const maxQuery = 100

// newLabelsPage arranges labels as Gmail's list does: system labels in
// Gmail's order under the names Gmail shows, then the inbox categories, then
// the user's labels as a tree, nested ones under their parent, each level in
// alphabetical order ignoring case; the labels Gmail hides (Chats, Unread,
// those marked labelHide) apart. With a query, Matches lists the labels
// whose name, or the name Gmail shows, contains it, ignoring case. Each
// label links to Gmail's web client for account (the signed-in address).
func newLabelsPage(labels []*gmail.Label, query, account string) labelsPage {
	page := labelsPage{Count: len(labels), Query: trimQuery(query)}
	var user, hiddenUser []*gmail.Label
	var system []*labelNode
	for _, l := range labels {
		switch {
		case l == nil:
		case l.Type == "system":
			system = append(system, systemNode(l))
		case l.LabelListVisibility == "labelHide":
			hiddenUser = append(hiddenUser, l)
		default:
			user = append(user, l)
		}
	}
	slices.SortStableFunc(system, func(a, b *labelNode) int {
		return cmp.Or(cmp.Compare(systemRank(a.Name), systemRank(b.Name)), strings.Compare(a.Name, b.Name))
	})
	for _, n := range system {
		i := systemRank(n.Name)
		known := i < len(gmailSystemLabels)
		switch {
		case known && gmailSystemLabels[i].hidden:
			page.Hidden = append(page.Hidden, n)
		case known && gmailSystemLabels[i].category:
			page.Categories = append(page.Categories, n)
		default:
			page.System = append(page.System, n)
		}
	}
	page.User = labelTree(user)
	sortByName(hiddenUser)
	for _, l := range hiddenUser {
		page.Hidden = append(page.Hidden, userNode(l, ""))
	}
	if page.Query != "" {
		page.Matches = page.matching(strings.ToLower(page.Query))
	}
	page.link(account)
	return page
}

// trimQuery returns the search without surrounding spaces, cut to maxQuery
// characters.
func trimQuery(q string) string {
	q = strings.TrimSpace(strings.ToValidUTF8(q, ""))
	if utf8.RuneCountInString(q) > maxQuery {
		q = string([]rune(q)[:maxQuery])
	}
	return q
}

// matching returns every label of the page whose name or shown name
// contains folded (lower case), in the order of the page, shown under its
// full name.
func (p labelsPage) matching(folded string) []*labelNode {
	var out []*labelNode
	eachNode([][]*labelNode{p.System, p.Categories, p.User, p.Hidden}, func(n *labelNode) {
		full := n.Parent + n.Display
		if strings.Contains(strings.ToLower(n.Name), folded) || strings.Contains(strings.ToLower(full), folded) {
			m := *n
			m.Display, m.Parent, m.Children = full, "", nil
			out = append(out, &m)
		}
	})
	return out
}

// eachNode calls visit for every node of groups, in order, each before its
// children.
func eachNode(groups [][]*labelNode, visit func(*labelNode)) {
	for _, nodes := range groups {
		for _, n := range nodes {
			visit(n)
			eachNode([][]*labelNode{n.Children}, visit)
		}
	}
}

// systemNode is a system label under the name Gmail shows.
func systemNode(l *gmail.Label) *labelNode {
	n := &labelNode{Name: l.Name, Display: cmp.Or(systemLabelNames[l.Name], l.Name), System: true, fragment: "label/" + url.QueryEscape(l.Name)}
	if i := systemRank(l.Name); i < len(gmailSystemLabels) {
		n.fragment = gmailSystemLabels[i].fragment
	}
	return n
}

// systemRank is a system label's place in Gmail's list; unknown ones come
// after the known ones.
func systemRank(id string) int {
	if i := slices.IndexFunc(gmailSystemLabels, func(s systemLabelInfo) bool { return s.id == id }); i >= 0 {
		return i
	}
	return len(gmailSystemLabels)
}

// userNode is a user label shown as its name after parent (a label's name
// and "/", or "").
func userNode(l *gmail.Label, parent string) *labelNode {
	return &labelNode{
		Name: l.Name, Display: l.Name[len(parent):], Parent: parent,
		Color: labelColorClass(l.Color), fragment: "label/" + url.QueryEscape(l.Name),
	}
}

// labelTree arranges user labels as Gmail does: "Travel/2026" under
// "Travel", shown as "2026". A label whose parent is not a label itself
// hangs under its nearest ancestor that is, or at the top, with the rest
// of its name ("Work/Projects" when there is no "Work").
func labelTree(labels []*gmail.Label) []*labelNode {
	sortByName(labels)
	byName := map[string]*labelNode{}
	var roots []*labelNode
	for _, l := range labels {
		var parent *labelNode
		for i := strings.LastIndexByte(l.Name, '/'); i > 0; i = strings.LastIndexByte(l.Name[:i], '/') {
			if p, ok := byName[l.Name[:i]]; ok {
				parent = p
				break
			}
		}
		var n *labelNode
		if parent == nil {
			n = userNode(l, "")
			roots = append(roots, n)
		} else {
			n = userNode(l, parent.Name+"/")
			parent.Children = append(parent.Children, n)
		}
		if _, dup := byName[l.Name]; !dup {
			byName[l.Name] = n
		}
	}
	return roots
}

// sortByName sorts labels as Gmail lists them: level by level ("Travel"
// and its nested labels before "Travel 2"), each level alphabetically
// ignoring case, then exactly, so that the order never depends on the order
// Gmail sent.
func sortByName(labels []*gmail.Label) {
	type keyed struct {
		folded, exact string // the name with each "/" made the lowest character
		label         *gmail.Label
	}
	keys := make([]keyed, len(labels))
	for i, l := range labels {
		exact := strings.ReplaceAll(l.Name, "/", "\x00")
		keys[i] = keyed{strings.ToLower(exact), exact, l}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.folded, b.folded), strings.Compare(a.exact, b.exact))
	})
	for i, k := range keys {
		labels[i] = k.label
	}
}

// labelColorClass returns the CSS class of a label's color, "c-" and its
// six hex digits, or "" when it has none. The page's Content-Security-Policy
// allows no style attribute, so style.css has a class for each color of
// Gmail's fixed palette; a color off it shows as none.
func labelColorClass(c *gmail.LabelColor) string {
	if c == nil || len(c.BackgroundColor) != 7 || c.BackgroundColor[0] != '#' {
		return ""
	}
	hex := strings.ToLower(c.BackgroundColor[1:])
	if strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	return "c-" + hex
}

// link sets the Href of every label: Gmail's web client for account, or
// for the browser's first Google account when it is not known.
func (p labelsPage) link(account string) {
	base := "https://mail.google.com/mail/u/0/"
	if account != "" {
		base = "https://mail.google.com/mail/u/?authuser=" + url.QueryEscape(account)
	}
	eachNode([][]*labelNode{p.System, p.Categories, p.User, p.Hidden, p.Matches}, func(n *labelNode) {
		// A constant, a query-escaped address and a fragment made of
		// constants and a query-escaped name: nothing can change the
		// scheme or the host.
		n.Href = template.URL(base + "#" + n.fragment) // #nosec G203 -- see above
	})
}
