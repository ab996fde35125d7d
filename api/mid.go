package api

import (
	"net/url"
	"strings"
)

// escapeMID escapes a Message-ID for a URL path segment the way
// public-inbox does: everything but unreserved characters and @ is
// percent-encoded, and "/" too.
func escapeMID(mid string) string {
	return strings.ReplaceAll(url.PathEscape(mid), "%40", "@")
}

// messageURL is the path of a message's page under list ("all" when
// empty).
func messageURL(list, mid string) string {
	if list == "" {
		list = allLists
	}
	return "/" + list + "/" + escapeMID(mid) + "/"
}
