//! One store suite, run against SQLite and PostGIS.

use geo::{MultiPolygon, wkt};
use gridmap::layers::{Feature, GenerationError, GenerationId, GenerationStatus, Layer};
use gridmap::store::{self, NewGeneration, StoreError};

fn square(code: &str, parent: Option<&str>, x: f64) -> Feature {
    let mp: MultiPolygon<f64> =
        wkt! { MULTIPOLYGON(((0. 0.,1. 0.,1. 1.,0. 1.,0. 0.),(0.2 0.2,0.4 0.2,0.4 0.4,0.2 0.2))) };
    let geometry = MultiPolygon(
        mp.0.into_iter()
            .map(|p| {
                use geo::Translate;
                p.translate(118.0 + x, 32.0)
            })
            .collect(),
    );
    let mut properties = serde_json::Map::new();
    properties.insert("人口".into(), serde_json::json!(1234));
    Feature {
        code: code.into(),
        name: format!("名称 {code}"),
        parent_code: parent.map(Into::into),
        geometry,
        properties,
    }
}

fn new_gen<'a>(base: Option<GenerationId>, layers: Vec<(Layer, &'a [Feature])>) -> NewGeneration<'a> {
    NewGeneration { base, description: "test".into(), report: serde_json::json!({"ok": true}), layers }
}

async fn features_round_trip(url: &str) {
    let store = store::open(url).await.expect("open");
    let streets = vec![square("s1", Some("d"), 0.0), square("s2", Some("d"), 1.0)];
    let g = store.create_generation(new_gen(None, vec![(Layer::Streets, &streets)])).await.expect("create");
    let mut back = store.layer_features(g, Layer::Streets).await.expect("read");
    back.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(back, streets, "geometry, names, parents and properties come back unchanged");
    assert!(store.layer_features(g, Layer::Grids).await.expect("read").is_empty());
    let codes = store.layer_codes(g, Layer::Streets).await.expect("codes");
    assert_eq!(codes.len(), 2);
    assert_eq!(store.active_generation().await.expect("active"), None, "creating does not activate");
}

async fn generations_stack_activate_and_rollback(url: &str) {
    let store = store::open(url).await.expect("open");
    let a = vec![square("s1", None, 0.0)];
    let b = vec![square("s1", None, 0.0), square("s2", None, 1.0)];
    let g1 = store.create_generation(new_gen(None, vec![(Layer::Streets, &a)])).await.expect("g1");
    store.activate(g1).await.expect("activate g1");
    let g2 = store.create_generation(new_gen(Some(g1), vec![(Layer::Streets, &b)])).await.expect("g2");
    assert!(g2 > g1, "ids increase");
    let list = store.generations().await.expect("list");
    assert_eq!(
        list.iter().map(|g| (g.id, g.status)).collect::<Vec<_>>(),
        vec![(g2, GenerationStatus::Staged), (g1, GenerationStatus::Active)]
    );
    store.activate(g2).await.expect("activate g2");
    assert_eq!(store.active_generation().await.expect("active"), Some(g2));
    let list = store.generations().await.expect("list");
    assert_eq!(list[1].status, GenerationStatus::Retired);
    assert!(list[0].activated_at.is_some());

    assert_eq!(store.rollback().await.expect("rollback"), g1);
    assert_eq!(store.active_generation().await.expect("active"), Some(g1));
    assert!(matches!(store.rollback().await, Err(GenerationError::NothingToRollBack)));
    assert_eq!(store.active_generation().await.expect("active"), Some(g1), "a refused rollback changes nothing");
    assert!(matches!(store.activate(GenerationId(9999)).await, Err(GenerationError::NotFound(GenerationId(9999)))));
}

async fn a_generation_takes_unreplaced_layers_from_its_base(url: &str) {
    let store = store::open(url).await.expect("open");
    let streets = vec![square("s1", None, 0.0)];
    let communities = vec![square("c1", Some("s1"), 0.0)];
    let g1 = store
        .create_generation(new_gen(None, vec![(Layer::Streets, &streets), (Layer::Communities, &communities)]))
        .await
        .expect("g1");
    let grids = vec![square("g1", Some("c1"), 0.0)];
    let g2 = store.create_generation(new_gen(Some(g1), vec![(Layer::Grids, &grids)])).await.expect("g2");
    for layer in Layer::ALL {
        assert_eq!(store.layer_features(g2, layer).await.expect("read").len(), 1, "{layer} in g2");
    }
    assert!(store.layer_features(g1, Layer::Grids).await.expect("read").is_empty(), "g1 is unchanged");
    let info = store.generations().await.expect("list");
    let g2_info = info.iter().find(|g| g.id == g2).expect("g2 listed");
    let streets_source = g2_info.layers.iter().find(|l| l.layer == Layer::Streets).expect("streets").source;
    assert_eq!(streets_source, g1, "streets are stored once, by g1");
}

async fn a_failed_write_leaves_nothing_behind(url: &str) {
    let store = store::open(url).await.expect("open");
    let ok = vec![square("s1", None, 0.0)];
    let g1 = store.create_generation(new_gen(None, vec![(Layer::Streets, &ok)])).await.expect("g1");
    store.activate(g1).await.expect("activate");
    // Two features with one code violate the primary key half-way through the write.
    let dup = vec![square("s1", None, 0.0), square("s2", None, 1.0), square("s1", None, 2.0)];
    let err = store.create_generation(new_gen(Some(g1), vec![(Layer::Streets, &dup)])).await;
    assert!(matches!(err, Err(StoreError::Query { .. })), "{err:?}");
    let list = store.generations().await.expect("list");
    assert_eq!(list.len(), 1, "no half-written generation: {list:?}");
    assert_eq!(store.active_generation().await.expect("active"), Some(g1));
    assert_eq!(store.layer_features(g1, Layer::Streets).await.expect("read").len(), 1);
}

/// The import's write beside its checks: kept only when the verdict is a report, and then complete.
async fn a_write_beside_the_checks_is_kept_only_on_their_verdict(url: &str) {
    let store = store::open(url).await.expect("open");
    let streets = vec![square("s1", None, 0.0), square("s2", None, 1.0)];
    let rejected = store
        .create_generation_when(new_gen(None, vec![(Layer::Streets, &streets)]), Box::pin(async { None }))
        .await
        .expect("write, then roll back");
    assert_eq!(rejected, None);
    assert!(store.generations().await.expect("list").is_empty(), "a rejected generation is not kept");

    // The verdict comes after the write has had time to run (the checks are slower than the write).
    let (send, verdict) = tokio::sync::oneshot::channel();
    let write = store.create_generation_when(
        new_gen(None, vec![(Layer::Streets, &streets)]),
        Box::pin(async move { verdict.await.ok().flatten() }),
    );
    let checks = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        send.send(Some(serde_json::json!([{"valid": true}]))).expect("the write waits for the verdict");
    };
    let (kept, ()) = tokio::join!(write, checks);
    let g = kept.expect("write").expect("kept on a report");
    let list = store.generations().await.expect("list");
    assert_eq!(list.iter().map(|i| i.id).collect::<Vec<_>>(), vec![g]);
    assert_eq!(list[0].status, GenerationStatus::Staged);
    let mut back = store.layer_features(g, Layer::Streets).await.expect("read");
    back.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(back, streets);

    // A write that fails on its own (a duplicate code) fails whatever the verdict, and leaves nothing.
    let dup = vec![square("s1", None, 0.0), square("s1", None, 2.0)];
    let failed = store
        .create_generation_when(
            new_gen(Some(g), vec![(Layer::Streets, &dup)]),
            Box::pin(async { Some(serde_json::json!([])) }),
        )
        .await;
    assert!(matches!(failed, Err(StoreError::Query { .. })), "{failed:?}");
    assert_eq!(store.generations().await.expect("list").len(), 1);
}

async fn reopening_keeps_everything(url: &str) {
    let streets = vec![square("s1", None, 0.0)];
    let g = {
        let store = store::open(url).await.expect("open");
        let g = store.create_generation(new_gen(None, vec![(Layer::Streets, &streets)])).await.expect("g");
        store.activate(g).await.expect("activate");
        g
    };
    let store = store::open(url).await.expect("reopen (migrations are idempotent)");
    assert_eq!(store.active_generation().await.expect("active"), Some(g));
    assert_eq!(store.layer_features(g, Layer::Streets).await.expect("read"), streets);
}

both_stores!(
    features_round_trip,
    generations_stack_activate_and_rollback,
    a_generation_takes_unreplaced_layers_from_its_base,
    a_failed_write_leaves_nothing_behind,
    a_write_beside_the_checks_is_kept_only_on_their_verdict,
    reopening_keeps_everything,
);

#[tokio::test]
async fn unsupported_url_is_refused() {
    assert!(matches!(store::open("mysql://x").await, Err(StoreError::UnsupportedUrl(_))));
}
