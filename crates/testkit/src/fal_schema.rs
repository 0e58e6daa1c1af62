//! The input schemas of the FAL models the bot uses, as their pages describe them: required
//! fields, known fields and their JSON types. FAL answers 422 with `detail` as a list for an
//! input that breaks its schema. Unknown fields are refused here too, stricter than FAL (which
//! drops them silently), because a field the model ignores (a `trigger_phrase` sent to a
//! trainer that reads `trigger_word`) is a bug that only shows in the trained avatar.

use serde_json::{Value, json};

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    Integer,
    Bool,
    /// A preset name or `{width, height}`.
    ImageSize,
    /// `[{path, scale}]`.
    Loras,
}

pub(crate) struct Schema {
    fields: &'static [(&'static str, Kind, bool)],
    /// Outputs a LoRA (`diffusers_lora_file`) rather than images.
    pub trains: bool,
}

const FLUX_LORA: Schema = Schema {
    fields: &[
        ("prompt", Kind::Text, true),
        ("image_size", Kind::ImageSize, false),
        ("num_inference_steps", Kind::Integer, false),
        ("seed", Kind::Integer, false),
        ("loras", Kind::Loras, false),
        ("guidance_scale", Kind::Number, false),
        ("sync_mode", Kind::Bool, false),
        ("num_images", Kind::Integer, false),
        ("enable_safety_checker", Kind::Bool, false),
        ("output_format", Kind::Text, false),
    ],
    trains: false,
};

const PORTRAIT_TRAINER: Schema = Schema {
    fields: &[
        ("images_data_url", Kind::Text, true),
        ("trigger_phrase", Kind::Text, false),
        ("learning_rate", Kind::Number, false),
        ("steps", Kind::Integer, false),
        ("multiresolution_training", Kind::Bool, false),
        ("subject_crop", Kind::Bool, false),
        ("data_archive_format", Kind::Text, false),
        ("resume_from_checkpoint", Kind::Text, false),
        ("create_masks", Kind::Bool, false),
    ],
    trains: true,
};

const FAST_TRAINING: Schema = Schema {
    fields: &[
        ("images_data_url", Kind::Text, true),
        ("trigger_word", Kind::Text, false),
        ("create_masks", Kind::Bool, false),
        ("steps", Kind::Integer, false),
        ("is_style", Kind::Bool, false),
        ("is_input_format_already_preprocessed", Kind::Bool, false),
        ("data_archive_format", Kind::Text, false),
    ],
    trains: true,
};

/// The schema of `model` (`owner/alias`), if the fake serves it.
pub(crate) fn of(model: &str) -> Option<&'static Schema> {
    match model {
        "fal-ai/flux-lora" => Some(&FLUX_LORA),
        "fal-ai/flux-lora-portrait-trainer" => Some(&PORTRAIT_TRAINER),
        "fal-ai/flux-lora-fast-training" => Some(&FAST_TRAINING),
        _ => None,
    }
}

impl Schema {
    /// Every way `input` breaks the schema, worded as FAL's validation errors.
    pub(crate) fn check(&self, input: &Value) -> Result<(), Vec<Value>> {
        let Some(fields) = input.as_object() else {
            return Err(vec![error(
                "body",
                "Input should be an object",
                "model_type",
            )]);
        };
        let mut errors = Vec::new();
        for (name, kind, required) in self.fields {
            match fields.get(*name) {
                None if *required => errors.push(error(name, "Field required", "missing")),
                None => {}
                Some(value) if !fits(*kind, value) => {
                    errors.push(error(name, "Input has the wrong type", "type_error"));
                }
                Some(_) => {}
            }
        }
        for name in fields.keys() {
            if !self.fields.iter().any(|(known, _, _)| known == name) {
                errors.push(error(
                    name,
                    "Extra inputs are not permitted",
                    "extra_forbidden",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The URLs of files the model downloads before running.
    pub(crate) fn file_urls(&self, input: &Value) -> Vec<String> {
        let mut urls: Vec<String> = input["loras"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|lora| lora["path"].as_str().map(str::to_owned))
            .collect();
        urls.extend(input["images_data_url"].as_str().map(str::to_owned));
        urls
    }
}

fn fits(kind: Kind, value: &Value) -> bool {
    match kind {
        Kind::Text => value.is_string(),
        Kind::Number => value.is_number(),
        Kind::Integer => value.is_u64() || value.is_i64(),
        Kind::Bool => value.is_boolean(),
        Kind::ImageSize => {
            value.is_string() || (value["width"].is_u64() && value["height"].is_u64())
        }
        Kind::Loras => value.as_array().is_some_and(|loras| {
            loras
                .iter()
                .all(|l| l["path"].is_string() && l.get("scale").is_none_or(Value::is_number))
        }),
    }
}

fn error(field: &str, msg: &str, kind: &str) -> Value {
    json!({"loc": ["body", field], "msg": msg, "type": kind})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trainer_refuses_the_other_trainers_trigger_field() {
        let input = json!({"images_data_url": "https://x/y.zip", "trigger_word": "ohwx"});
        assert!(
            of("fal-ai/flux-lora-fast-training")
                .unwrap()
                .check(&input)
                .is_ok()
        );
        let errors = of("fal-ai/flux-lora-portrait-trainer")
            .unwrap()
            .check(&input)
            .unwrap_err();
        assert_eq!(errors[0]["loc"][1], "trigger_word");
    }

    #[test]
    fn missing_and_mistyped_fields_are_listed() {
        let errors = FLUX_LORA
            .check(&json!({"num_images": "one", "loras": [{"scale": 1}]}))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e["loc"][1].as_str()).collect();
        assert_eq!(fields, ["prompt", "loras", "num_images"]);
    }
}
