package fakegoogle

import (
	"net/http"
	"strings"
)

// Drive's files.list, as a read API is emulated: one file that gives each
// account its files and registers the method.

// driveFile has the JSON shape of Drive's files resource, as much of it as
// files.list returns by default.
type driveFile struct {
	Kind     string `json:"kind"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
}

// driveFiles are each account's files: a few named after the account.
var driveFiles = newPerAccount(func(a Account) []driveFile {
	first, _, _ := strings.Cut(a.Name, " ")
	return []driveFile{
		{"drive#file", "file-1-" + first, first + "’s notes", "application/vnd.google-apps.document"},
		{"drive#file", "file-2-" + first, "Budget 2027", "application/vnd.google-apps.spreadsheet"},
	}
})

func init() {
	apis = append(apis, api{
		pattern: "GET /drive/v3/files",
		scopes: []string{
			"https://www.googleapis.com/auth/drive.metadata.readonly",
			"https://www.googleapis.com/auth/drive.readonly",
			"https://www.googleapis.com/auth/drive",
		},
		serve: func(c *call) reply {
			return c.json(http.StatusOK, map[string]any{"kind": "drive#fileList", "files": *driveFiles.of(c)})
		},
	})
}
