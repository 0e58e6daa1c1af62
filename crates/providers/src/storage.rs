//! Object storage for photos and generated images, behind one type for both backends:
//! a local directory (`file://data/storage`, the default) and S3-compatible storage
//! (`s3://bucket/prefix`, configured by the usual `AWS_*` variables). Keys are stable paths
//! (`avatars/{avatar}/{photo}.jpg`); nothing stores an expiring URL.

use std::sync::Arc;

use bytes::Bytes;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("STORAGE_URL: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("storage write: {0}")]
    Write(#[from] std::io::Error),
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    description: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl BlobStore {
    /// `file://relative/or/absolute/dir` or `s3://bucket[/prefix]`; S3 settings come from the
    /// usual `AWS_*` environment variables.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        let aws = std::env::vars().filter(|(key, _)| key.starts_with("AWS_"));
        Self::from_url_with(url, aws)
    }

    /// As `from_url`, with the S3 settings given (`AWS_ENDPOINT`, `AWS_REGION`, …).
    pub fn from_url_with(
        url: &str,
        s3_options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StorageError> {
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)
                .map_err(|e| StorageError::Config(format!("cannot create {dir}: {e}")))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
            return Ok(Self {
                store: Arc::new(store),
                prefix: Path::default(),
                description: url.to_owned(),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StorageError::Config("s3:// needs a bucket".into()));
            }
            let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(bucket);
            for (key, value) in s3_options {
                // Variables this version does not know are someone else's; skip them.
                if let Ok(key) = key
                    .to_ascii_lowercase()
                    .parse::<object_store::aws::AmazonS3ConfigKey>()
                {
                    builder = builder.with_config(key, value);
                }
            }
            let store = builder.build()?;
            return Ok(Self {
                store: Arc::new(store),
                prefix: Path::from(prefix),
                description: url.to_owned(),
            });
        }
        Err(StorageError::Config(format!(
            "expected file://… or s3://…, got {url}"
        )))
    }

    fn path(&self, key: &str) -> Path {
        key.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&self.path(key), bytes.into()).await?;
        Ok(())
    }

    /// A writer for `key` that takes the object piece by piece: a small one is stored in one
    /// request, a large one as a multipart upload, so a file of any size passes through a few
    /// MiB of memory. Nothing is stored until `finish`.
    pub fn writer(&self, key: &str) -> BlobWriter {
        BlobWriter(BufWriter::new(Arc::clone(&self.store), self.path(key)))
    }

    /// An object as a request body streamed from storage, with its length (signed upload
    /// URLs refuse a body without one).
    pub async fn read_body(&self, key: &str) -> Result<(reqwest::Body, u64), StorageError> {
        let found = self.store.get(&self.path(key)).await?;
        let size = found.meta.size;
        Ok((reqwest::Body::wrap_stream(found.into_stream()), size))
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&self.path(key)).await?.bytes().await?)
    }

    /// Deletes a key; a key that is already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.store.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

/// See `BlobStore::writer`.
pub struct BlobWriter(BufWriter);

impl BlobWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        Ok(self.0.write_all(chunk).await?)
    }

    /// Stores what was written.
    pub async fn finish(mut self) -> Result<(), StorageError> {
        Ok(self.0.shutdown().await?)
    }

    /// Drops what was written; a multipart upload begun is aborted.
    pub async fn abort(mut self) -> Result<(), StorageError> {
        Ok(self.0.abort().await?)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::BlobStore;

    #[tokio::test]
    async fn local_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::from_url(&format!("file://{}", dir.path().display())).unwrap();
        store
            .put("avatars/1/2.jpg", Bytes::from_static(b"jpeg"))
            .await
            .unwrap();
        assert!(
            dir.path().join("avatars/1/2.jpg").exists(),
            "stable key, plain file"
        );
        assert_eq!(
            store.get("avatars/1/2.jpg").await.unwrap(),
            Bytes::from_static(b"jpeg")
        );
        store.delete("avatars/1/2.jpg").await.unwrap();
        store.delete("avatars/1/2.jpg").await.unwrap();
        assert!(!store.exists("avatars/1/2.jpg").await.unwrap());
    }

    #[tokio::test]
    async fn a_written_object_is_stored_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::from_url(&format!("file://{}", dir.path().display())).unwrap();
        let mut writer = store.writer("avatars/1/lora.safetensors");
        writer.write(b"part one, ").await.unwrap();
        writer.write(b"part two").await.unwrap();
        assert!(!store.exists("avatars/1/lora.safetensors").await.unwrap());
        writer.finish().await.unwrap();
        assert_eq!(
            store.get("avatars/1/lora.safetensors").await.unwrap(),
            Bytes::from_static(b"part one, part two")
        );
        let (_, size) = store.read_body("avatars/1/lora.safetensors").await.unwrap();
        assert_eq!(size, 18);
        let mut dropped = store.writer("avatars/1/other");
        dropped.write(b"never stored").await.unwrap();
        dropped.abort().await.unwrap();
        assert!(!store.exists("avatars/1/other").await.unwrap());
    }

    #[test]
    fn refuses_other_schemes() {
        assert!(BlobStore::from_url("ftp://x").is_err());
        assert!(BlobStore::from_url("s3://").is_err());
    }
}
