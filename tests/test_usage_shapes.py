"""Usage shapes from provider docs (provider-rules §U); expectations computed by hand below."""

from agentcost.ingest import usage as U


def test_bedrock_converse_inclusive_input() -> None:
    # AWS TokenUsage: inputTokens excludes cache; totalTokens = in + out + read + write
    body = {"inputTokens": 10, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 5,
            "outputTokens": 7, "totalTokens": 122}
    n = U.bedrock_converse_usage(body)
    assert n["input_tokens"] == 115 and n["cache_read_tokens"] == 100
    assert n["cache_write_tokens"] == 5 and n["output_tokens"] == 7
    assert n["input_tokens"] + n["output_tokens"] == body["totalTokens"]
    assert U.detect_and_normalize(body) == n


def test_gemini_tool_use_prompt_is_input() -> None:
    body = {"promptTokenCount": 200, "toolUsePromptTokenCount": 30, "candidatesTokenCount": 40,
            "thoughtsTokenCount": 12, "cachedContentTokenCount": 50, "totalTokenCount": 282}
    n = U.detect_and_normalize(body)
    assert n["input_tokens"] == 230 and n["output_tokens"] == 52 and n["reasoning_tokens"] == 12
    assert n["cache_read_tokens"] == 50
    assert n["input_tokens"] + n["output_tokens"] == body["totalTokenCount"]


def test_mistral_num_cached_tokens() -> None:
    n = U.detect_and_normalize({"prompt_tokens": 50, "completion_tokens": 3,
                                "total_tokens": 53, "num_cached_tokens": 20})
    assert (n["input_tokens"], n["cache_read_tokens"], n["output_tokens"]) == (50, 20, 3)
