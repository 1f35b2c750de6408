// Package image is mydocker's images: the store of OCI and Docker images
// (pull and push through a registry, load and save archives, commit a
// container's changes as a new layer, tag, list, inspect, remove and
// prune), the flat images of the built-in busybox and `image import`, and
// what `run` needs of an image (its layers as overlay lowerdirs, top
// first, and its config).
//
// # Why go-containerregistry
//
// References, manifests and indexes, the registry protocol (token auth,
// redirects, chunked uploads), docker save and OCI archive formats: the
// field's pure-Go library (github.com/google/go-containerregistry) does
// them, and is what crane, ko and kaniko use. mydocker writes none of that
// by hand: it drives the library, stores what it is given, and narrates.
// Unpacking reads a layer blob once, with compress/gzip or
// github.com/klauspost/compress/zstd (the zstd the library itself uses),
// rather than through tarball.LayerFromOpener, which decompresses a blob
// once more to compute digests the store has checked already.
//
// # References
//
// ParseReference is name.ParseReference with docker's defaults: `alpine` is
// index.docker.io/library/alpine:latest. Loopback and RFC 1918 registries
// speak plain http (the library's rule), and so do the hosts listed in
// MYDOCKER_INSECURE_REGISTRIES (comma-separated HOST[:PORT]).
//
// # Credentials
//
// Pull and push authenticate with docker's credentials, through the
// library's authn.DefaultKeychain: $DOCKER_CONFIG/config.json or
// ~/.docker/config.json (and the credential helpers it names). CheckLogin,
// SaveLogin and Logout are `mydocker login` and `logout`: they check the
// credentials with the registry and keep them in that file, in docker's
// format (see auth.go).
//
// # Layout (under --data-root; the on-disk formats are API)
//
//	image/.lock                        flock held while layers, records and tags change
//	image/blobs/sha256/<hex>           manifests, configs and compressed layers, by digest
//	image/layers/<chain hex>/diff      a layer, unpacked once, keyed by its chain id
//	image/layers/<chain hex>/layer.json  {ChainID, DiffID, Parent, Size}
//	image/l/<short>                    -> ../layers/<chain hex>/diff: short names for
//	                                   lowerdir, so 128 layers fit in a page of mount options
//	image/images/<id hex>.json         an image record (Record): manifest digest, config
//	                                   digest (the id), layers' chain ids, repo digests
//	image/repositories.json            {"Tags": {"index.docker.io/library/alpine:3.20": "sha256:<id>"}}
//
// Whiteouts are stored as overlay wants them: `.wh.NAME` becomes a 0/0
// character device NAME, `.wh..wh..opq` the xattr trusted.overlay.opaque=y
// on its directory.
//
// # Flat images, and the catalog of both
//
// The built-in busybox (built from the host's busybox-static the first time
// it is asked for, so the demo needs no registry) and `image import` make
// flat images (Flat): one unpacked root filesystem per name under
// <data-root>/images/<name>, no layers, no config, a single lowerdir. Such
// an image is made in a temporary directory and renamed into place, so it
// is whole or absent; its commit is a new flat image, a copy with the
// container's upper directory applied (whiteouts delete, opaque directories
// replace). Catalog puts both kinds behind the image verbs and run: a name
// that is a flat image's is that image, anything else is the store's.
// Which containers use an image is the caller's to say (User): this
// package knows images, package container knows containers.
//
// # Crash safety
//
// A blob is written to a temp file named by the writer's pid, its digest
// checked, then renamed into place: a blob under its digest is whole and
// verified, and may stay after an interrupted pull for the next one to use.
// A layer is unpacked into layers/.tmp-<pid>-<hex> and renamed into place
// under the lock: a layer directory is whole, made once however many pulls
// race. The image's tags are written after its layers, and its record last:
// a tag whose image has no record is not seen, so the record's write makes
// the image, whole and tagged. An interrupted pull leaves no image, only
// verified blobs, whole layers and tags that no record backs (the next pull
// uses them, `image prune` and `rmi` remove them, and temp files and
// directories of dead writers are removed by the next writer). A commit is a
// put too: its layer's tar is written to blobs/sha256/.tmp-<pid>-..., then
// stored as a pulled layer is (the base's layers are there already, by the
// same chain ids), and an interrupted commit leaves no image either.
// Removal goes the other way: tags first, then the record, then what no
// record names.
package image
