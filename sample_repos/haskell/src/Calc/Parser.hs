{-# LANGUAGE LambdaCase #-}

-- | A recursive-descent parser with the usual precedence: @^@ binds tightest and is
-- right-associative, then @*@ and @/@, then @+@ and @-@.
module Calc.Parser (parseStmt, Parser (..)) where

import Calc.Lexer
import Calc.Types

-- | A parser over tokens, returning the rest of the input.
newtype Parser a = Parser {runParser :: [Token] -> Result (a, [Token])}

instance Functor Parser where
  fmap f (Parser p) = Parser $ \ts -> fmap (\(a, rest) -> (f a, rest)) (p ts)

instance Applicative Parser where
  pure a = Parser $ \ts -> Right (a, ts)
  Parser pf <*> Parser pa = Parser $ \ts -> do
    (f, rest) <- pf ts
    (a, rest') <- pa rest
    pure (f a, rest')

instance Monad Parser where
  Parser p >>= k = Parser $ \ts -> p ts >>= \(a, rest) -> runParser (k a) rest

-- | Parses one statement: @x = e@, @f(a, b) = e@ or a bare expression.
parseStmt :: [Token] -> Result Stmt
parseStmt ts = case ts of
  TIdent f : TSym '(' : rest | Just (params, TEquals : body) <- paramList rest -> Define f params <$> whole body
  TIdent x : TEquals : body -> Assign x <$> whole body
  _ -> Print <$> whole ts

-- | Runs the expression parser and insists that it consumes every token.
whole :: [Token] -> Result Expr
whole ts = runParser expr ts >>= \case
  (e, []) -> Right e
  (_, t : _) -> Left (ParseError ("unexpected " ++ show t))

-- | Names separated by commas up to the closing parenthesis.
paramList :: [Token] -> Maybe ([Name], [Token])
paramList (TSym ')' : rest) = Just ([], rest)
paramList (TIdent p : TSym ',' : rest) = fmap (\(ps, r) -> (p : ps, r)) (paramList rest)
paramList (TIdent p : TSym ')' : rest) = Just ([p], rest)
paramList _ = Nothing

-- | Left-associative chain of terms joined by @+@ or @-@.
expr :: Parser Expr
expr = chainl term [('+', Add), ('-', Sub)]

-- | Left-associative chain of factors joined by @*@ or @/@.
term :: Parser Expr
term = chainl factor [('*', Mul), ('/', Div)]

-- | A power, right-associative: @2^3^2@ is @2^(3^2)@.
factor :: Parser Expr
factor = do
  base <- unary
  optional (sym '^') >>= \case
    Just _ -> Bin Pow base <$> factor
    Nothing -> pure base

-- | A number, variable, call, negation or parenthesised expression.
unary :: Parser Expr
unary = Parser $ \case
  TSym '-' : rest -> runParser (Neg <$> unary) rest
  TNum n : rest -> Right (Num n, rest)
  TIdent f : TSym '(' : rest -> runParser (Call f <$> args) rest
  TIdent x : rest -> Right (Var x, rest)
  TSym '(' : rest -> runParser (expr <* sym ')') rest
  ts -> Left (ParseError ("expected an expression at " ++ show (take 1 ts)))

-- | Call arguments up to the closing parenthesis.
args :: Parser [Expr]
args = optional (sym ')') >>= maybe ((:) <$> expr <*> rest) (const (pure []))
  where
    rest = sym ',' *> args' <|> (sym ')' >> pure [])
    args' = (:) <$> expr <*> rest

-- | Consumes one symbol token.
sym :: Char -> Parser ()
sym c = Parser $ \case
  TSym c' : rest | c == c' -> Right ((), rest)
  ts -> Left (ParseError ("expected " ++ [c] ++ " at " ++ show (take 1 ts)))

-- | Tries a parser, giving 'Nothing' instead of failing.
optional :: Parser a -> Parser (Maybe a)
optional (Parser p) = Parser $ \ts -> either (const (Right (Nothing, ts))) (\(a, r) -> Right (Just a, r)) (p ts)

-- | The first parser, or the second if the first fails.
(<|>) :: Parser a -> Parser a -> Parser a
Parser p <|> Parser q = Parser $ \ts -> either (const (q ts)) Right (p ts)

infixl 3 <|>

-- | Operands separated by any of the given operator symbols, folded to the left.
chainl :: Parser Expr -> [(Char, BinOp)] -> Parser Expr
chainl operand ops = operand >>= loop
  where
    loop acc = foldr (\(c, op) next -> (sym c >> operand >>= loop . Bin op acc) <|> next) (pure acc) ops
