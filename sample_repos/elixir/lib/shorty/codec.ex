defmodule Shorty.Codec do
  @moduledoc """
  Base62 codes for numeric ids: `0-9`, `a-z`, `A-Z`.
  """

  @alphabet ~c"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  @base length(@alphabet)

  @doc """
  Encodes a non-negative integer as a base62 string.

      iex> Shorty.Codec.encode(125)
      "21"
  """
  @spec encode(non_neg_integer) :: String.t()
  def encode(0), do: "0"
  def encode(n) when is_integer(n) and n > 0, do: do_encode(n, [])

  defp do_encode(0, acc), do: List.to_string(acc)
  defp do_encode(n, acc), do: do_encode(div(n, @base), [Enum.at(@alphabet, rem(n, @base)) | acc])

  @doc "Decodes a base62 string; `:error` if a character is not in the alphabet."
  @spec decode(String.t()) :: {:ok, non_neg_integer} | :error
  def decode(code) when is_binary(code) do
    code
    |> String.to_charlist()
    |> Enum.reduce_while({:ok, 0}, fn char, {:ok, acc} ->
      case Enum.find_index(@alphabet, &(&1 == char)) do
        nil -> {:halt, :error}
        digit -> {:cont, {:ok, acc * @base + digit}}
      end
    end)
  end

  @doc "Guard: whether `code` is between 1 and 16 bytes long, as short codes are."
  defguard valid_length?(code) when byte_size(code) in 1..16
end
