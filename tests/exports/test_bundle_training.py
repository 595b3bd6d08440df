"""TRL's trainers run one step on each exported TRL file, with a tiny model built in memory.

Nothing is downloaded: the tokenizer is trained on a few sentences, the model
has random weights, and the chat template is strict, so an unknown role or an
empty assistant turn raises instead of rendering.
"""

import pytest
from datasets import load_dataset
from jinja2.exceptions import TemplateError
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from reviews.models import Review
from tests.exports.conftest import bundle_unpack

pytestmark = pytest.mark.django_db

SPECIAL_TOKENS = ["<pad>", "<unk>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|tools|>"]
STRICT_TEMPLATE = (
    "{%- if tools %}<|tools|>{{ tools | tojson }}<|end|>{% endif -%}"
    "{%- for message in messages -%}"
    "{%- if message.role not in ['system', 'user', 'assistant', 'tool'] -%}"
    "{{ raise_exception('unknown role ' ~ message.role) }}"
    "{%- endif -%}"
    "{%- if message.role == 'assistant' -%}"
    "{%- if not message.content and not message.tool_calls -%}"
    "{{ raise_exception('empty assistant turn') }}"
    "{%- endif -%}"
    "<|assistant|>{% generation %}{{ message.content }}"
    "{%- for call in message.tool_calls or [] %} call {{ call.function.name }} {{ call.function.arguments | tojson }}"
    "{%- endfor %}<|end|>{% endgeneration %}"
    "{%- else -%}<|{{ message.role }}|>{{ message.content }}<|end|>{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt %}<|assistant|>{% endif -%}"
)


def _tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|end|>", pad_token="<pad>", unk_token="<unk>"
    )
    wrapped.chat_template = STRICT_TEMPLATE
    return wrapped


def _model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(config)


@pytest.fixture
def trl_bundle(build, mixed_items, tmp_path):
    """Return a function that builds every TRL file with ``options`` and unpacks the bundle into a folder."""

    def build_dir(options=None):
        job = build(kind="all", options=options)
        return bundle_unpack(job, tmp_path / f"bundle-{job.pk}")

    return build_dir


def _dataset(path, tmp_path):
    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


def _training_args(config_class, tmp_path):
    return config_class(
        output_dir=str(tmp_path / "run"), max_steps=1, per_device_train_batch_size=2, use_cpu=True,
        report_to="none", save_strategy="no", logging_strategy="no",
    )


def _sft_step(dataset, text: str, tmp_path):
    tokenizer = _tokenizer([text])
    trainer = SFTTrainer(
        model=_model(tokenizer), processing_class=tokenizer, train_dataset=dataset,
        args=_training_args(SFTConfig, tmp_path),
    )
    return trainer.train()


@pytest.mark.parametrize("tool_arguments", ["object", "string"])
def test_sft_trainer_takes_one_step(trl_bundle, tmp_path, tool_arguments):
    directory = trl_bundle({"tool_arguments": tool_arguments})

    result = _sft_step(_dataset(directory / "sft.jsonl", tmp_path), (directory / "sft.jsonl").read_text(), tmp_path)

    assert result.global_step == 1
    assert result.training_loss > 0


def test_sft_trainer_trains_on_whole_conversations(trl_bundle, tmp_path):
    path = trl_bundle() / "sft_messages.jsonl"

    result = _sft_step(_dataset(path, tmp_path), path.read_text(), tmp_path)

    assert result.global_step == 1
    assert result.training_loss > 0


def test_sft_trainer_reads_split_config(build, make_reviewed, tmp_path):
    for number in range(8):
        make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": f"Light {number} blinks."}])
    directory = bundle_unpack(build(kind="sft", options={"validation_ratio": 0.5}), tmp_path / "split-bundle")
    splits = load_dataset(str(directory), "sft", cache_dir=str(tmp_path / "hf-cache"))

    result = _sft_step(splits["train"], (directory / "sft.train.jsonl").read_text(), tmp_path)

    assert splits["train"].num_rows + splits["validation"].num_rows == 8
    assert result.global_step == 1


@pytest.mark.parametrize("tool_arguments", ["object", "string"])
def test_dpo_trainer_takes_one_step(trl_bundle, tmp_path, tool_arguments):
    path = trl_bundle({"tool_arguments": tool_arguments}) / "dpo.jsonl"
    tokenizer = _tokenizer([path.read_text()])

    trainer = DPOTrainer(
        model=_model(tokenizer), ref_model=_model(tokenizer), processing_class=tokenizer,
        train_dataset=_dataset(path, tmp_path), args=_training_args(DPOConfig, tmp_path),
    )
    result = trainer.train()

    assert result.global_step == 1
    assert result.training_loss > 0


def test_strict_template_rejects_unknown_role():
    tokenizer = _tokenizer(["The WAN light blinks amber."])

    with pytest.raises(TemplateError, match="unknown role human"):
        tokenizer.apply_chat_template([{"role": "human", "content": "Hi"}], tokenize=False)
