"""TRL's trainers run one step on each exported TRL file, with a tiny model built in memory.

Nothing is downloaded: the tokenizer is trained on a few sentences, the model
has random weights, and the chat template is strict, so an unknown role or an
empty assistant turn raises instead of rendering.
"""

import zipfile

import pytest
from datasets import load_dataset
from jinja2.exceptions import TemplateError
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from exports.models import ExportJob
from exports.services import export_build, export_request

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
def trl_bundle(manager, queue, mixed_items, tmp_path):
    job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]}, enqueue=False)
    job = export_build(job_id=job.pk)
    assert job.state == ExportJob.State.SUCCEEDED, job.error
    with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        archive.extractall(tmp_path / "bundle")
    return tmp_path / "bundle"


def _dataset(path, tmp_path):
    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


def _training_args(config_class, tmp_path):
    return config_class(
        output_dir=str(tmp_path / "run"), max_steps=1, per_device_train_batch_size=2, use_cpu=True,
        report_to="none", save_strategy="no", logging_strategy="no",
    )


def test_sft_trainer_takes_one_step(trl_bundle, tmp_path):
    dataset = _dataset(trl_bundle / "sft.jsonl", tmp_path)
    tokenizer = _tokenizer([(trl_bundle / "sft.jsonl").read_text()])

    trainer = SFTTrainer(
        model=_model(tokenizer), processing_class=tokenizer, train_dataset=dataset,
        args=_training_args(SFTConfig, tmp_path),
    )
    result = trainer.train()

    assert result.global_step == 1
    assert result.training_loss > 0


def test_dpo_trainer_takes_one_step(trl_bundle, tmp_path):
    dataset = _dataset(trl_bundle / "dpo.jsonl", tmp_path)
    tokenizer = _tokenizer([(trl_bundle / "dpo.jsonl").read_text()])

    trainer = DPOTrainer(
        model=_model(tokenizer), ref_model=_model(tokenizer), processing_class=tokenizer, train_dataset=dataset,
        args=_training_args(DPOConfig, tmp_path),
    )
    result = trainer.train()

    assert result.global_step == 1
    assert result.training_loss > 0


def test_strict_template_rejects_unknown_role():
    tokenizer = _tokenizer(["The WAN light blinks amber."])

    with pytest.raises(TemplateError, match="unknown role human"):
        tokenizer.apply_chat_template([{"role": "human", "content": "Hi"}], tokenize=False)
