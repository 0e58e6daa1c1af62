//! The S3 path of `BlobStore`, against a local S3-compatible server (moto, installed from PyPI
//! by `scripts/test.sh`, which passes its path in `MOTO_SERVER`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use studio_providers::storage::BlobStore;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Server, String) {
    let binary = std::env::var("MOTO_SERVER")
        .expect("MOTO_SERVER is not set: run scripts/test.sh, which installs moto from PyPI");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn s3_round_trip_with_prefix_and_delete() {
    let (_server, endpoint) = start_moto();
    // CreateBucket: moto accepts it unsigned.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/photos"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "bucket: {}",
        created.status()
    );
    let options = [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let store = BlobStore::from_url_with("s3://photos/prod", options).unwrap();
    store
        .put("avatars/1/abc.jpg", Bytes::from_static(b"jpeg bytes"))
        .await
        .unwrap();
    assert_eq!(
        store.get("avatars/1/abc.jpg").await.unwrap(),
        Bytes::from_static(b"jpeg bytes")
    );
    let listed = reqwest::Client::new()
        .get(format!("{endpoint}/photos?list-type=2"))
        .send()
        .await
        .unwrap();
    let listing = listed.text().await.unwrap();
    assert!(
        listing.contains("prod/avatars/1/abc.jpg"),
        "keys live under the prefix: {listing}"
    );
    store.delete("avatars/1/abc.jpg").await.unwrap();
    assert!(!store.exists("avatars/1/abc.jpg").await.unwrap());

    // A LoRA-sized file goes up in parts (more than the writer's 10 MiB buffer).
    let mut writer = store.writer("avatars/1/lora.safetensors");
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..12 {
        writer.write(&chunk).await.unwrap();
    }
    writer.finish().await.unwrap();
    let (_, size) = store.read_body("avatars/1/lora.safetensors").await.unwrap();
    assert_eq!(size, 12 << 20);
}
