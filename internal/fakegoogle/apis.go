package fakegoogle

// An api is a method of a Google API that every Server serves, besides
// Gmail's users.labels.list.
type api struct {
	pattern string   // a net/http ServeMux pattern, such as "GET /drive/v3/files"
	scopes  []string // any one of them allows the method
	handle  APIHandler
}

// apis are the methods every Server serves. A file of this package that
// emulates another Google API adds its methods here, in an init function,
// so that the demo and every test see them:
//
//	func init() {
//		apis = append(apis, api{"GET /drive/v3/files", []string{driveScope}, driveFiles})
//	}
var apis []api
