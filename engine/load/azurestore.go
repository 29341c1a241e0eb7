package load

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// AzureStore is a storage account's container, the destination diagnostic settings archive to
// (insights-logs-signinlogs, …), read with the Azure SDK for Go.
type AzureStore struct {
	client    *azblob.Client
	url       string
	container string
	prefix    string
}

// NewAzureStore opens container in the account a connection string names (the portal's "Access
// keys" string, a SAS connection string, or Azurite's), reading the blobs under prefix.
func NewAzureStore(connectionString, containerName, prefix string) (*AzureStore, error) {
	c, err := azblob.NewClientFromConnectionString(connectionString, nil)
	if err != nil {
		return nil, fmt.Errorf("storage connection string: %w", err)
	}
	return &AzureStore{client: c, url: strings.TrimSuffix(c.URL(), "/") + "/" + containerName, container: containerName, prefix: prefix}, nil
}

func (a *AzureStore) ID() string { return a.url + "/" + a.prefix }

func (a *AzureStore) List(ctx context.Context) ([]BlobInfo, error) {
	var out []BlobInfo
	pager := a.client.NewListBlobsFlatPager(a.container, &container.ListBlobsFlatOptions{Prefix: &a.prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || it.Properties == nil || it.Properties.ContentLength == nil || !IsArchiveBlob(*it.Name) {
				continue
			}
			out = append(out, BlobInfo{Name: *it.Name, Size: *it.Properties.ContentLength})
		}
	}
	return out, nil
}

func (a *AzureStore) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	rc, err := a.Open(ctx, name, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.ReadFull(rc, p)
}

func (a *AzureStore) Open(ctx context.Context, name string, off, n int64) (io.ReadCloser, error) {
	resp, err := a.client.DownloadStream(ctx, a.container, name, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: n}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
