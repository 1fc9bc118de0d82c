//! What goes wrong says so: no adapter, a model too large for the device, a batch too large
//! for one dispatch (split, not refused), a lost device, a bad input — errors, never a panic
//! or a hang.

mod common;

use std::sync::Arc;

use zkw_gpu::{Gpu, GpuError, GpuExecutor};
use zkw_model::ir::{Model, TensorInfo, WeightMode};
use zkw_model::ops::{Op, Relu};
use zkw_model::{Executor, ModelError, Reference};

fn relu_model(len: usize) -> Model {
    Model::chain(
        "relu",
        WeightMode::Fixed,
        TensorInfo {
            shape: vec![len],
            frac_bits: 0,
            bits: 8,
        },
        vec![Op::Relu(Relu)],
        None,
    )
}

/// A fresh device (not the shared one), or `None` where there is no adapter.
fn fresh() -> Option<Gpu> {
    common::gpu()?;
    Some(Gpu::new().unwrap())
}

#[test]
fn no_adapter_by_that_name() {
    let err = Gpu::with_adapter(Some("no-such-adapter-zkw"))
        .err()
        .unwrap();
    assert!(matches!(err, GpuError::NoAdapter(Some(_))));
    assert_eq!(
        err.to_string(),
        "no GPU adapter matching `no-such-adapter-zkw`"
    );
}

#[test]
fn a_model_too_large_for_the_device_is_refused_at_load() {
    let Some(mut gpu) = fresh() else {
        return;
    };
    gpu.cap_binding(1024);
    let gpu = GpuExecutor::on(Arc::new(gpu));
    let err = gpu.load(&relu_model(300)).err().unwrap();
    assert_eq!(
        err.to_string(),
        "tensor #0 [300] needs 1200 bytes, more than the device's 1024-byte limit"
    );
    // Through the Executor trait, the same reason.
    let err = gpu.run(&relu_model(300), &[0; 300]).unwrap_err();
    assert!(matches!(err, ModelError::Executor { .. }), "{err:?}");
    assert!(err.to_string().contains("needs 1200 bytes"), "{err}");
}

#[test]
fn a_batch_too_large_for_one_dispatch_is_split() {
    let Some(mut gpu) = fresh() else {
        return;
    };
    gpu.cap_binding(4000);
    let gpu = GpuExecutor::on(Arc::new(gpu));
    let model = relu_model(100);
    assert_eq!(gpu.load(&model).unwrap().max_batch(), 10);
    let inputs: Vec<Vec<i64>> = (0..25)
        .map(|k| (0..100).map(|i| (i * 7 + k) % 256 - 128).collect())
        .collect();
    let traces = gpu.run_batch(&model, &inputs).unwrap();
    assert_eq!(traces.len(), 25);
    for (t, x) in traces.iter().zip(&inputs) {
        assert_eq!(t, &Reference.run(&model, x).unwrap());
    }
}

#[test]
fn a_lost_device_is_an_error() {
    let Some(gpu) = fresh() else {
        return;
    };
    let gpu = Arc::new(gpu);
    let exec = GpuExecutor::on(gpu.clone());
    let model = relu_model(10);
    exec.run(&model, &[1; 10]).unwrap();
    gpu.device().destroy();
    let err = exec.run(&model, &[1; 10]).unwrap_err();
    assert!(matches!(err, ModelError::Executor { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("the GPU executor failed: the GPU device was lost: "),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_refused_before_the_gpu() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let model = relu_model(10);
    let err = gpu.run(&model, &[1; 9]).unwrap_err();
    assert!(matches!(err, ModelError::InputLength { .. }), "{err:?}");
    let err = gpu.run(&model, &[1000; 10]).unwrap_err();
    assert!(matches!(err, ModelError::InputOutOfRange { .. }), "{err:?}");
}

/// More than 65,535 workgroups: the grid folds into a second dimension, element-wise (a ReLU
/// over 4.2M values) and tiled (a dense layer of 65,536 outputs over a batch of 64), still
/// equal to the reference.
#[test]
fn grids_beyond_one_dimension_fold_into_two() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let len = 65_535 * 64 + 100;
    let model = relu_model(len);
    let x: Vec<i64> = (0..len as i64).map(|i| i % 256 - 128).collect();
    assert_eq!(
        gpu.run(&model, &x).unwrap(),
        Reference.run(&model, &x).unwrap()
    );

    let out = 65_536;
    let dense = Model::chain(
        "wide",
        WeightMode::Fixed,
        TensorInfo {
            shape: vec![1],
            frac_bits: 0,
            bits: 8,
        },
        vec![Op::Dense(zkw_model::ops::Dense {
            name: "fc".into(),
            in_features: 1,
            out_features: out,
            weights: (0..out as i64).map(|i| i % 255 - 127).collect(),
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: (0..out as i64).map(|i| i % 1000).collect(),
            bias_bits: 12,
        })],
        None,
    );
    let xs: Vec<Vec<i64>> = (0..64).map(|k| vec![k - 32]).collect();
    let traces = gpu.run_batch(&dense, &xs).unwrap();
    for (t, x) in traces.iter().zip(&xs) {
        assert_eq!(t, &Reference.run(&dense, x).unwrap());
    }
}
