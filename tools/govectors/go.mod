module websession.test/govectors

go 1.23

require github.com/gorilla/sessions v1.4.0

require github.com/gorilla/securecookie v1.1.2 // indirect

// Placeholders: point these at checkouts of gorilla/sessions (bb4cd60, v1.4.0) and
// gorilla/securecookie (eae3c18, v1.1.2); see README.md.
replace github.com/gorilla/sessions => ../../../gorilla/sessions

replace github.com/gorilla/securecookie => ../../../gorilla/securecookie
