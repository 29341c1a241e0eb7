package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/s3blob" // s3:// URLs: S3 and S3-compatible stores (MinIO, R2, Ceph)
	"gocloud.dev/gcerrors"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// A Tree is where a lake is published: a local directory, written durably (each file synced
// and renamed into place, its directory synced), or an object-storage bucket through
// gocloud.dev/blob, where an upload becomes visible whole when it completes. Either way a file
// appears whole or not at all, which is what lets the manifest, written last, promise whole days.
type Tree interface {
	// Create starts the file at rel (slash-separated); nothing is visible there before Commit.
	Create(ctx context.Context, rel string) (File, error)
	// ReadFile returns a file's bytes; a missing file is an error matching fs.ErrNotExist.
	ReadFile(ctx context.Context, rel string) ([]byte, error)
	// String names the tree in messages.
	String() string
	Close() error
}

// A File is a file being published.
type File interface {
	io.Writer
	Commit() error // the file appears whole at its place
	Abort()        // the place keeps what it had
}

// EnvStorageConnectionString names the variable holding an Azure storage account's connection
// string; azblob:// trees use it when it is set (the same variable `ingest --blob-container`
// reads), and the Azure SDK's own variables otherwise.
const EnvStorageConnectionString = "AUTHLAKE_STORAGE_CONNECTION_STRING"

// OpenTree opens dest: a directory path, or a bucket URL with an optional key prefix as its path,
// azblob://CONTAINER/PREFIX or s3://BUCKET/PREFIX?region=R (gocloud.dev/blob's URL parameters,
// e.g. endpoint= and use_path_style=true for S3-compatible stores).
func OpenTree(ctx context.Context, dest string, opts Options) (Tree, error) {
	if !strings.Contains(dest, "://") {
		if dest == "" {
			return nil, errors.New("no destination: give a directory or a bucket URL (azblob://CONTAINER/PREFIX, s3://BUCKET/PREFIX)")
		}
		return &dirTree{dir: dest, noSync: opts.NoSync}, nil
	}
	u, err := url.Parse(dest)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", dest, err)
	}
	prefix := strings.Trim(u.Path, "/")
	u.Path = ""
	var b *blob.Bucket
	switch cs := os.Getenv(EnvStorageConnectionString); {
	case u.Scheme == "azblob" && cs != "":
		c, cerr := container.NewClientFromConnectionString(cs, u.Host, nil)
		if cerr != nil {
			return nil, fmt.Errorf("$%s: %w", EnvStorageConnectionString, cerr)
		}
		b, err = azureblob.OpenBucket(ctx, c, nil)
	case u.Scheme == "azblob" || u.Scheme == "s3":
		b, err = blob.OpenBucket(ctx, u.String())
	default:
		return nil, fmt.Errorf("destination %q: a directory, azblob://CONTAINER/PREFIX or s3://BUCKET/PREFIX", dest)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dest, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	return &bucketTree{b: b, name: dest}, nil
}

type dirTree struct {
	dir    string
	noSync bool
}

func (t *dirTree) String() string { return t.dir }
func (t *dirTree) Close() error   { return nil }

func (t *dirTree) Create(_ context.Context, rel string) (File, error) {
	path := filepath.Join(t.dir, filepath.FromSlash(rel))
	if err := fsutil.MkdirAllDurable(vfs.Default, filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return fsutil.CreateAtomic(vfs.Default, path, 0o644, t.noSync)
}

func (t *dirTree) ReadFile(_ context.Context, rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(t.dir, filepath.FromSlash(rel)))
}

type bucketTree struct {
	b    *blob.Bucket
	name string
}

func (t *bucketTree) String() string { return t.name }
func (t *bucketTree) Close() error   { return t.b.Close() }

func (t *bucketTree) Create(ctx context.Context, rel string) (File, error) {
	ctx, cancel := context.WithCancel(ctx)
	w, err := t.b.NewWriter(ctx, rel, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	return &bucketFile{w: w, cancel: cancel}, nil
}

func (t *bucketTree) ReadFile(ctx context.Context, rel string) ([]byte, error) {
	data, err := t.b.ReadAll(ctx, rel)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%s in %s: %w", rel, t.name, fs.ErrNotExist)
	}
	return data, err
}

// bucketFile is an upload: Close completes it, and cancelling its context first abandons it
// (gocloud.dev/blob's contract), so an aborted file never appears.
type bucketFile struct {
	w      *blob.Writer
	cancel context.CancelFunc
}

func (f *bucketFile) Write(p []byte) (int, error) { return f.w.Write(p) }

func (f *bucketFile) Commit() error {
	defer f.cancel()
	return f.w.Close()
}

func (f *bucketFile) Abort() {
	f.cancel()
	f.w.Close()
}
