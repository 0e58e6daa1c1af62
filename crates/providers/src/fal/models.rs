//! The FAL models we call and the input each one takes. Inputs differ per model (the portrait
//! trainer takes `trigger_phrase` and `learning_rate`, the fast trainer `trigger_word` and no
//! learning rate), so a configured model id picks its input type here, and an id we do not
//! know the input of is refused at start-up instead of being sent the wrong shape.

use std::str::FromStr;

use serde::Serialize;

/// An input bound to the model that takes it: `FalClient::submit` sends it to that model only.
pub trait ModelInput: Serialize {
    fn model_id(&self) -> &'static str;
}

/// A model id outside the ones this build knows the input of.
#[derive(Debug, thiserror::Error)]
#[error("unknown model {given:?}; known: {known}")]
pub struct UnknownModel {
    given: String,
    known: String,
}

fn parse<T: Copy>(
    given: &str,
    all: &[T],
    id: impl Fn(T) -> &'static str,
) -> Result<T, UnknownModel> {
    let wanted = given.trim().trim_matches('/');
    all.iter()
        .copied()
        .find(|m| id(*m) == wanted)
        .ok_or_else(|| UnknownModel {
            given: given.to_owned(),
            known: all.iter().map(|m| id(*m)).collect::<Vec<_>>().join(", "),
        })
}

/// Image models that apply an avatar's LoRA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageModel {
    FluxLora,
}

impl ImageModel {
    pub const ALL: [Self; 1] = [Self::FluxLora];

    pub const fn id(self) -> &'static str {
        match self {
            Self::FluxLora => "fal-ai/flux-lora",
        }
    }
}

impl FromStr for ImageModel {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s, &Self::ALL, Self::id)
    }
}

/// `fal-ai/flux-lora`'s input.
#[derive(Debug, Clone, Serialize)]
pub struct FluxLoraInput {
    pub prompt: String,
    pub loras: Vec<LoraWeight>,
    /// A preset name (`square_hd`, `portrait_4_3`, …).
    pub image_size: &'static str,
    pub num_images: u8,
    pub num_inference_steps: u8,
    pub guidance_scale: f64,
    pub enable_safety_checker: bool,
    pub output_format: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoraWeight {
    pub path: String,
    pub scale: f64,
}

impl FluxLoraInput {
    /// One JPEG of the prompt with one LoRA, the safety checker on.
    pub fn portrait(prompt: String, lora: LoraWeight, image_size: &'static str) -> Self {
        Self {
            prompt,
            loras: vec![lora],
            image_size,
            num_images: 1,
            num_inference_steps: 28,
            guidance_scale: 3.5,
            enable_safety_checker: true,
            output_format: "jpeg",
        }
    }
}

impl ModelInput for FluxLoraInput {
    fn model_id(&self) -> &'static str {
        ImageModel::FluxLora.id()
    }
}

/// Trainers that make a FLUX LoRA from a zip of photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trainer {
    Portrait,
    Fast,
}

/// What a training needs, whatever the trainer.
#[derive(Debug, Clone)]
pub struct TrainingRequest {
    pub images_data_url: String,
    pub trigger: String,
    pub steps: u32,
    /// Only the portrait trainer takes one.
    pub learning_rate: f64,
}

impl Trainer {
    pub const ALL: [Self; 2] = [Self::Portrait, Self::Fast];

    pub const fn id(self) -> &'static str {
        match self {
            Self::Portrait => "fal-ai/flux-lora-portrait-trainer",
            Self::Fast => "fal-ai/flux-lora-fast-training",
        }
    }

    /// The input this trainer takes for `request`.
    pub fn input(self, request: TrainingRequest) -> TrainerInput {
        match self {
            Self::Portrait => TrainerInput::Portrait(PortraitTrainerInput {
                images_data_url: request.images_data_url,
                trigger_phrase: request.trigger,
                steps: request.steps,
                learning_rate: request.learning_rate,
                multiresolution_training: true,
                subject_crop: true,
                create_masks: false,
            }),
            Self::Fast => TrainerInput::Fast(FastTrainingInput {
                images_data_url: request.images_data_url,
                trigger_word: request.trigger,
                steps: request.steps,
                create_masks: true,
                is_style: false,
            }),
        }
    }
}

impl FromStr for Trainer {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s, &Self::ALL, Self::id)
    }
}

/// A trainer's input; both trainers answer with `TrainerOutput`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TrainerInput {
    Portrait(PortraitTrainerInput),
    Fast(FastTrainingInput),
}

impl ModelInput for TrainerInput {
    fn model_id(&self) -> &'static str {
        match self {
            Self::Portrait(_) => Trainer::Portrait.id(),
            Self::Fast(_) => Trainer::Fast.id(),
        }
    }
}

/// `fal-ai/flux-lora-portrait-trainer`'s input.
#[derive(Debug, Clone, Serialize)]
pub struct PortraitTrainerInput {
    pub images_data_url: String,
    pub trigger_phrase: String,
    pub steps: u32,
    pub learning_rate: f64,
    pub multiresolution_training: bool,
    pub subject_crop: bool,
    pub create_masks: bool,
}

/// `fal-ai/flux-lora-fast-training`'s input.
#[derive(Debug, Clone, Serialize)]
pub struct FastTrainingInput {
    pub images_data_url: String,
    pub trigger_word: String,
    pub steps: u32,
    pub create_masks: bool,
    pub is_style: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> TrainingRequest {
        TrainingRequest {
            images_data_url: "https://cdn/x.zip".into(),
            trigger: "ohwx person".into(),
            steps: 1000,
            learning_rate: 0.0001,
        }
    }

    #[test]
    fn each_trainer_gets_its_own_trigger_field() {
        let portrait = serde_json::to_value(Trainer::Portrait.input(request())).unwrap();
        assert_eq!(portrait["trigger_phrase"], "ohwx person");
        assert!(portrait.get("trigger_word").is_none());
        let fast = serde_json::to_value(Trainer::Fast.input(request())).unwrap();
        assert_eq!(fast["trigger_word"], "ohwx person");
        assert!(fast.get("trigger_phrase").is_none() && fast.get("learning_rate").is_none());
    }

    #[test]
    fn model_ids_parse_and_unknown_ones_are_refused() {
        assert_eq!(
            "fal-ai/flux-lora-fast-training".parse::<Trainer>().unwrap(),
            Trainer::Fast
        );
        assert_eq!(
            "fal-ai/flux-lora".parse::<ImageModel>().unwrap(),
            ImageModel::FluxLora
        );
        let err = "fal-ai/flux-pro".parse::<ImageModel>().unwrap_err();
        assert!(err.to_string().contains("fal-ai/flux-lora"), "{err}");
    }
}
