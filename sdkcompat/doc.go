// Package sdkcompat proves that Microsoft's own Graph clients work against authlake unchanged
// but for the base URL: msgraph-sdk-go's auditlogs and identityprotection request builders
// (gosdk_test.go) and the JavaScript/TypeScript SDKs, @microsoft/msgraph-sdk with its core's
// PageIterator and @microsoft/microsoft-graph-client v3 (node_test.go, node/), each against a real
// authlake server over https on loopback; and the storage-account archive reader against
// Microsoft's storage emulator, Azurite (azurite_test.go), as diagnostic settings write it.
//
// It is its own module, like bench/peer: the SDK's models package alone takes about a minute and
// 4 GB to compile, which `go test ./...` of the main module should not pay. .ci/run runs it.
package sdkcompat
