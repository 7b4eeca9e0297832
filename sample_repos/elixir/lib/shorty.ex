defmodule Shorty do
  @moduledoc """
  Shorty turns long URLs into short codes and resolves them back.

  The public API wraps `Shorty.Store` and `Shorty.Codec`.
  """

  alias Shorty.{Codec, Link, Store}

  @doc """
  Shortens `url` and returns the stored link.

  Returns `{:error, reason}` when the URL is not valid.
  """
  @spec shorten(String.t(), keyword) :: {:ok, Link.t()} | {:error, atom}
  def shorten(url, opts \\ []) do
    with {:ok, uri} <- Shorty.Validator.validate(URI.parse(url)),
         id <- Store.next_id(),
         code <- Keyword.get_lazy(opts, :alias, fn -> Codec.encode(id) end) do
      Store.put(Link.new(code, URI.to_string(uri)))
    end
  end

  @doc "Finds the link for `code` and counts the visit."
  @spec resolve(String.t()) :: {:ok, Link.t()} | :error
  def resolve(code) when is_binary(code) do
    case Store.get(code) do
      nil -> :error
      link -> {:ok, Store.touch(link)}
    end
  end
end
